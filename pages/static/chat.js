// Rendered markdown: copy buttons on code blocks, and remote images that load only when clicked.
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
  // The server only emits http(s) data-src values; checked again so a stray one cannot run.
  if (placeholder && /^https?:\/\//i.test(placeholder.dataset.src || "")) {
    const img = document.createElement("img");
    img.src = placeholder.dataset.src;
    img.alt = placeholder.title || "";
    img.referrerPolicy = "no-referrer";
    placeholder.replaceWith(img);
  }
});
