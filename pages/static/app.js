// The reader's time zone, for the times the server writes on messages (pages/i18n.py
// time_zone): kept in a cookie that every page load sends.
(() => {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone) {
    document.cookie = `chatapp_tz=${zone}; path=/; max-age=31536000; SameSite=Lax`;
  }
})();

// Topics open inside the page (pages/chat_page.py ChatScreen): a plain click on a link marked
// .pane-link, and back / forward between the addresses it made, move the address here and ask
// the server for the pane (`chat_open`), instead of loading the page again. Before the
// websocket is up a link loads its page as links do.
(() => {
  const open = () =>
    emitEvent("chat_open", { path: location.pathname, narrow: window.innerWidth <= 768 });
  document.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = event.target.closest("a.pane-link[href]");
    if (!link || !window.did_handshake || !window.socket?.connected) return;
    const url = new URL(link.href);
    if (url.origin !== location.origin) return;
    if (url.pathname === location.pathname) {
      if (!url.hash) event.preventDefault(); // already shown; with a hash the browser scrolls
      return;
    }
    event.preventDefault();
    history.pushState({ pane: true }, "", url.pathname + url.search + url.hash);
    open();
  });
  window.addEventListener("popstate", open);
})();

// Follow a streaming reply: keep the page scrolled to the bottom until the user scrolls up;
// then a round "jump to latest" button above the message box brings the reader back down.
// A link to one message (#m-<id>, from search) shows that message instead, loading older
// messages of a long topic until it is there. The chat pane can be swapped for another topic
// at any time: each new message log is followed from its start.
(() => {
  let stick = !location.hash.startsWith("#m-");
  let lastY = window.scrollY;
  const nearBottom = () =>
    window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 120;
  // Plain DOM, outside NiceGUI's elements: it lives for the page, whatever the pane shows.
  const jump = document.createElement("button");
  jump.type = "button";
  jump.className = "jump-latest";
  jump.hidden = true;
  jump.innerHTML = '<i class="q-icon material-icons" aria-hidden="true">arrow_downward</i>';
  jump.setAttribute("aria-label", (window.chatappWords || {}).latest || "Jump to latest");
  jump.title = jump.getAttribute("aria-label");
  jump.addEventListener("click", () => {
    stick = true;
    window.scrollTo({ top: document.documentElement.scrollHeight });
    showJump();
    // The button hides under the focus: keyboard users go on in the message box.
    document.querySelector(".chat-footer textarea")?.focus({ preventScroll: true });
  });
  // Shown while a message log is on the page and its end is out of view; centred over the
  // message box, just above it (the box grows with its text, the drawer moves it sideways).
  const showJump = () => {
    const footer = document.querySelector(".chat-footer");
    const away = Boolean(followed && followed.isConnected) && !nearBottom();
    const box = footer?.getBoundingClientRect(); // the footer is fixed: no offsetParent
    const shown = away && box !== undefined && box.height > 0;
    if (shown) {
      jump.style.left = `${box.left + box.width / 2}px`;
      jump.style.bottom = `${window.innerHeight - box.top + 12}px`;
    }
    if (jump.hidden === shown) jump.hidden = !shown;
  };
  window.addEventListener("resize", showJump, { passive: true });
  window.addEventListener("scroll", () => {
    stick = nearBottom();
    showJump();
    if (window.scrollY < lastY) window.chatScrolledUp = true;
    lastY = window.scrollY;
  }, { passive: true });
  const older = () => {
    const button = document.querySelector(".messages-older");
    return button && button.offsetParent !== null ? button : null;
  };
  const showHit = () => {
    const hit = location.hash.startsWith("#m-") && document.getElementById(location.hash.slice(1));
    if (!hit) return false;
    for (const old of document.querySelectorAll(".message-hit")) old.classList.remove("message-hit");
    hit.classList.add("message-hit");
    hit.scrollIntoView({ block: "center" });
    return true;
  };
  // Older messages load above the first one shown: keep that one where the reader sees it
  // (the browser's own scroll anchoring does nothing at the very top of the page).
  let anchor = null;
  document.addEventListener("click", (event) => {
    if (!event.target.closest(".messages-older")) return;
    const first = document.querySelector(".messages [data-message-id]");
    anchor = first && { element: first, top: first.getBoundingClientRect().top };
  }, { capture: true });
  // Once per frame, just before it is drawn: reading the page's height lays the page out,
  // and doing that in each mutation callback laid it out again for every update (a new
  // turn is several; Chromium's profile of a reply's first words showed a quarter of the
  // time in here).
  let scrolling = false;
  const toBottom = () => {
    if (scrolling) return;
    scrolling = true;
    requestAnimationFrame(() => {
      scrolling = false;
      if (stick) window.scrollTo({ top: document.documentElement.scrollHeight });
      showJump();
    });
  };
  const observer = new MutationObserver(() => {
    if (anchor && anchor.element.isConnected) {
      const moved = anchor.element.getBoundingClientRect().top - anchor.top;
      if (moved) { window.scrollBy(0, moved); anchor = null; }
    }
    toBottom(); // scrolls only when stuck to the end; the jump button is checked either way
  });
  // The log also grows with no change to its elements: a message off screen is laid out
  // only when it comes near (app.css), and then takes its real height instead of a guess.
  const resized = new ResizeObserver(toBottom);
  // The linked message is older than those drawn: load older ones until it is there (a
  // click made before the page's websocket is up is lost, so keep asking for a while).
  const seek = (tries) => {
    if (showHit()) { stick = false; return; }
    const more = older();
    // A log just swapped in can come before its messages: wait for them too.
    const drawn = document.querySelector(".messages [data-message-id]");
    if ((!more && drawn) || tries <= 0) return;
    more?.click();
    setTimeout(() => seek(tries - 1), more ? 300 : 50);
  };
  let followed = null;
  const start = () => {
    if (!jump.isConnected) document.body.appendChild(jump);
    const log = document.querySelector(".messages");
    if (log === followed) return;
    observer.disconnect();
    resized.disconnect();
    followed = log;
    anchor = null;
    window.chatScrolledUp = false; // the new log's "older" button is not for this scroll
    if (!log) { showJump(); return; }
    observer.observe(log, { childList: true, subtree: true, characterData: true });
    resized.observe(log);
    stick = !location.hash.startsWith("#m-");
    if (stick) toBottom();
    else seek(100);
    showJump();
    lastY = window.scrollY; // leaving a longer log is no scroll up in this one
  };
  // The page's elements are made by its module script, which has run by DOMContentLoaded:
  // start then, so the page shows its end at once rather than its top first; and again
  // whenever the pane shows another log.
  const watchPane = () => {
    start();
    new MutationObserver(start).observe(document.body, { childList: true, subtree: true });
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watchPane);
  else watchPane();
  // A search hit in the topic already open only changes the hash: show that message too.
  window.addEventListener("hashchange", () => seek(100));
})();

// The topic list loads its next page when the reader scrolls the drawer near its end (a
// scroll, not a layout pass while the page loads, which loaded a second page unasked); a long
// topic loads older messages when its "Load older messages" button scrolls into view, once the
// reader has scrolled up (the page opens at the bottom, so the button is in view only for a
// moment).
(() => {
  let asked = -1; // the number of rows when the next page was asked for: one ask per page
  document.addEventListener("scroll", (event) => {
    const drawer = event.target;
    if (!(drawer instanceof Element) || !drawer.classList.contains("q-drawer__content")) return;
    if (drawer.scrollTop + drawer.clientHeight < drawer.scrollHeight - 200) return;
    const more = drawer.querySelector(".topic-more");
    const rows = drawer.querySelectorAll(".topic-row").length;
    if (more && more.offsetParent !== null && rows !== asked) {
      asked = rows;
      more.click();
    }
  }, true);
  const seen = new WeakSet();
  const visible = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (entry.isIntersecting && window.chatScrolledUp) entry.target.click();
    }
  });
  const watch = () => {
    for (const button of document.querySelectorAll(".messages-older")) {
      if (!seen.has(button)) { seen.add(button); visible.observe(button); }
    }
    // A table wider than the phone scrolls in its box (Quasar's q-table, the usage page):
    // keyboard users reach that box with Tab and scroll it with the arrow keys.
    for (const box of document.querySelectorAll(".q-table__middle:not([tabindex])")) {
      box.setAttribute("tabindex", "0");
    }
  };
  new MutationObserver(watch).observe(document.body, { childList: true, subtree: true });
  watch();
})();

// Quasar's page-loading bar is a progressbar without a name; give it one for screen readers.
(() => {
  const name = () => {
    for (const bar of document.querySelectorAll(".q-loading-bar:not([aria-label])")) {
      bar.setAttribute("aria-label", (window.chatappWords || {}).loading || "Loading");
    }
  };
  new MutationObserver(name).observe(document.body, { childList: true, subtree: true });
  name();
})();

// Keyboard shortcuts, as ChatGPT has them; pages/frame.py lists them in a dialog (Ctrl+/, or
// the account menu). None fires while an input method is composing: its keys belong to the
// candidate being picked.
(() => {
  // The app's address (under a proxy's sub-path too): this script is <base>/static/app.js.
  const base = new URL(".", document.currentScript?.src || location.href).pathname
    .replace(/static\/$/, "");
  const letter = (event) =>
    /^[a-z]$/i.test(event.key) ? event.key.toLowerCase()
      : event.code.startsWith("Key") ? event.code.slice(3).toLowerCase() : "";
  const click = (name) => {
    const button = document.querySelector(`[data-shortcut="${name}"]`);
    if (button) button.click();
    return Boolean(button);
  };
  const copyLast = () => {
    // The newest reply with its buttons (one being written has none yet): its copy button.
    const replies = [...document.querySelectorAll('[data-role="assistant"]')].reverse();
    for (const reply of replies) {
      const copy = [...reply.querySelectorAll(".message-actions .q-btn")].find(
        (button) => button.querySelector(".q-icon")?.textContent.trim() === "content_copy");
      if (copy) { copy.click(); return; }
    }
  };
  document.addEventListener("keydown", (event) => {
    if (event.isComposing || event.keyCode === 229 || event.altKey) return;
    const mod = event.ctrlKey || event.metaKey;
    const key = letter(event);
    if (mod && event.shiftKey && key === "o") {
      if (!click("new-chat")) location.assign(base); // a page without the topic list
    } else if (mod && event.shiftKey && key === "c") {
      copyLast();
    } else if (mod && event.shiftKey && key === "s") {
      click("sidebar");
    } else if (mod && (event.key === "/" || event.code === "Slash")) {
      if (window.did_handshake) emitEvent("chat_shortcuts");
    } else if (event.shiftKey && !mod && event.key === "Escape") {
      document.querySelector(".chat-footer textarea")?.focus();
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  }, { capture: true });
  // Esc stops a reply being written. Heard last (bubbling): an open menu or dialog closes
  // first, and a field that answers Esc itself (renaming, editing a message) stops it there.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || event.shiftKey || event.ctrlKey || event.metaKey) return;
    if (event.altKey || event.isComposing || event.keyCode === 229) return;
    if (document.querySelector(".q-menu, .q-dialog")) return;
    const stop = document.querySelector('[data-shortcut="stop"]');
    if (stop && stop.getClientRects().length > 0) stop.click();
  });
})();

// Menus (Quasar's q-menu: the account menu, a topic's ⋯ menu): Up and Down move between the
// entries (round the ends), Home and End go to the first and the last. Enter picks one, and
// Esc closes the menu and gives the focus back to its button: Quasar does those.
document.addEventListener("keydown", (event) => {
  const moves = ["ArrowDown", "ArrowUp", "Home", "End"];
  if (!moves.includes(event.key) || event.altKey || event.ctrlKey || event.metaKey) return;
  // Quasar takes the focus off the button as its menu opens, leaving it on the page itself.
  const open = [...document.querySelectorAll(".q-menu")].pop();
  const inside = event.target instanceof Element ? event.target.closest(".q-menu") : null;
  const menu = inside || (event.target === document.body ? open : null);
  if (!menu) return;
  const items = [...menu.querySelectorAll('[role="menuitem"]')].filter(
    (item) => item.getAttribute("aria-disabled") !== "true" && item.getClientRects().length > 0);
  if (!items.length) return;
  const at = items.indexOf(event.target.closest('[role="menuitem"]'));
  const last = items.length - 1;
  const next = {
    Home: 0,
    End: last,
    ArrowDown: at < 0 || at === last ? 0 : at + 1,
    ArrowUp: at <= 0 ? last : at - 1,
  }[event.key];
  event.preventDefault();
  items[next].focus();
});

