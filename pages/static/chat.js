// Rendered markdown: copy buttons on code blocks, and remote images that load only when clicked.
document.addEventListener("click", (event) => {
  const copy = event.target.closest(".copy-code");
  if (copy) {
    const code = copy.closest(".code-block").querySelector("pre").innerText;
    navigator.clipboard.writeText(code).then(() => {
      const words = window.chatappWords || {};
      copy.textContent = words.copied || "Copied";
      setTimeout(() => { copy.textContent = words.copy || "Copy"; }, 1500);
    });
    return;
  }
  const placeholder = event.target.closest(".image-placeholder");
  // The server only emits http(s) data-src values; checked again so a stray one cannot run.
  if (placeholder && /^https?:\/\//i.test(placeholder.dataset.src || "")) {
    const img = document.createElement("img");
    img.src = placeholder.dataset.src;
    img.alt = placeholder.title || "";
    img.referrerPolicy = "no-referrer";
    placeholder.replaceWith(img);
  }
});

// Files dropped anywhere on the chat page, or pasted into it, go to the (hidden) uploader.
(() => {
  const uploader = () => {
    const el = document.querySelector(".chat-uploader");
    return el ? getElement(el.id.slice(1))?.$refs.qRef : null;
  };
  const hasFiles = (event) => Array.from(event.dataTransfer?.types || []).includes("Files");
  document.addEventListener("dragover", (event) => {
    if (!hasFiles(event) || !uploader()) return;
    event.preventDefault();
    document.body.classList.add("dropping");
  });
  document.addEventListener("dragleave", (event) => {
    if (!event.relatedTarget) document.body.classList.remove("dropping");
  });
  document.addEventListener("drop", (event) => {
    document.body.classList.remove("dropping");
    const target = uploader();
    if (!target || !event.dataTransfer?.files.length) return;
    event.preventDefault();
    target.addFiles(event.dataTransfer.files);
  });
  document.addEventListener("paste", (event) => {
    const target = uploader();
    const files = event.clipboardData?.files;
    if (!target || !files || !files.length) return;
    event.preventDefault();
    target.addFiles(files);
  });
})();
