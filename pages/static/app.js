// Follow a streaming reply: keep the page scrolled to the bottom until the user scrolls up.
// A link to one message (#m-<id>, from search) shows that message instead.
(() => {
  let stick = !location.hash.startsWith("#m-");
  const nearBottom = () =>
    window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 120;
  window.addEventListener("scroll", () => { stick = nearBottom(); }, { passive: true });
  const observer = new MutationObserver(() => {
    if (stick) window.scrollTo({ top: document.documentElement.scrollHeight });
  });
  const showHit = () => {
    const hit = location.hash.startsWith("#m-") && document.getElementById(location.hash.slice(1));
    if (!hit) return false;
    for (const old of document.querySelectorAll(".message-hit")) old.classList.remove("message-hit");
    hit.classList.add("message-hit");
    hit.scrollIntoView({ block: "center" });
    return true;
  };
  const start = () => {
    const log = document.querySelector(".messages");
    if (!log) return setTimeout(start, 200);
    observer.observe(log, { childList: true, subtree: true, characterData: true });
    if (!showHit()) window.scrollTo({ top: document.documentElement.scrollHeight });
  };
  start();
  // A search hit in the topic already open only changes the hash: show that message too.
  window.addEventListener("hashchange", () => { if (showHit()) stick = false; });
})();

// The topic list loads its next page when its "Show more" button scrolls into view.
(() => {
  const seen = new WeakSet();
  const visible = new IntersectionObserver((entries) => {
    for (const entry of entries) if (entry.isIntersecting) entry.target.click();
  });
  const watch = () => {
    for (const button of document.querySelectorAll(".topic-more")) {
      if (!seen.has(button)) { seen.add(button); visible.observe(button); }
    }
  };
  new MutationObserver(watch).observe(document.body, { childList: true, subtree: true });
  watch();
})();

// Quasar's page-loading bar is a progressbar without a name; give it one for screen readers.
(() => {
  const name = () => {
    for (const bar of document.querySelectorAll(".q-loading-bar:not([aria-label])")) {
      bar.setAttribute("aria-label", "Loading");
    }
  };
  new MutationObserver(name).observe(document.body, { childList: true, subtree: true });
  name();
})();
