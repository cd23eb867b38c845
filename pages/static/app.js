// Follow a streaming reply: keep the page scrolled to the bottom until the user scrolls up.
(() => {
  let stick = true;
  const nearBottom = () =>
    window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 120;
  window.addEventListener("scroll", () => { stick = nearBottom(); }, { passive: true });
  const observer = new MutationObserver(() => {
    if (stick) window.scrollTo({ top: document.documentElement.scrollHeight });
  });
  const start = () => {
    const log = document.querySelector(".messages");
    if (!log) return setTimeout(start, 200);
    observer.observe(log, { childList: true, subtree: true, characterData: true });
    window.scrollTo({ top: document.documentElement.scrollHeight });
  };
  start();
})();
