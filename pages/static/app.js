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

// Copy buttons on code blocks, and remote images that load only when clicked.
document.addEventListener("click", (event) => {
  const copy = event.target.closest(".copy-code");
  if (copy) {
    const code = copy.closest(".code-block").querySelector("pre").innerText;
    navigator.clipboard.writeText(code).then(() => {
      copy.textContent = "Copied";
      setTimeout(() => { copy.textContent = "Copy"; }, 1500);
    });
    return;
  }
  const placeholder = event.target.closest(".image-placeholder");
  if (placeholder && placeholder.dataset.src) {
    const img = document.createElement("img");
    img.src = placeholder.dataset.src;
    img.alt = placeholder.title || "";
    img.style.maxWidth = "100%";
    placeholder.replaceWith(img);
  }
});
