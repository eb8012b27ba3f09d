/*
 * Social media guidance chat: a chat bubble for the members' intranet.
 *
 * Embed it with one script tag (docs/channels.md, "Chat widget"):
 *
 *   <script src="https://<this server>/widget.js" data-server="https://<Rasa server>:5005"
 *           data-council="coventry" defer></script>
 *
 * It talks to the assistant over Rasa's socket.io channel (channels/webchat.py) and loads its
 * style sheet and the socket.io client from beside this file. Everything the member or the bot
 * says is shown as text, never read as HTML. The session id and the conversation as shown are
 * kept in localStorage, so a reload shows the conversation again and carries it on.
 *
 * The file is ASCII (other characters are escaped), so it reads the same whatever the host
 * page's character encoding.
 */
(() => {
  "use strict";

  const script = document.currentScript;
  const base = new URL(".", script.src);
  const REPLY_TIMEOUT_MS = 60000;
  const MAX_ENTRIES = 200;
  const TITLE = "Social media guidance";

  function readConfig(data) {
    const config = { server: null, council: null, problem: null };
    try {
      const url = new URL(data.server || "");
      if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error();
      config.server = url.origin;
    } catch (error) {
      config.problem = "This chat is not set up yet: its script tag needs data-server, the assistant's web address.";
    }
    if (data.council) {
      if (/^[a-z][a-z-]*$/.test(data.council)) config.council = data.council;
      else console.warn(`Chat widget: data-council "${data.council}" is not a council key (e.g. coventry); ignored.`);
    }
    return config;
  }

  const config = readConfig(script.dataset);
  if (config.problem) console.error("Chat widget: " + config.problem);

  // What the conversation has shown, kept between page loads: {sessionId, open, entries}.
  // An entry is {kind: "user"|"text", text}, {kind: "quotes", quotes}, {kind: "section", section}
  // or {kind: "buttons", buttons}.
  const storageKey = "council-chat:" + config.server;

  function isEntry(entry) {
    if (!entry || typeof entry !== "object") return false;
    switch (entry.kind) {
      case "user":
      case "text":
        return typeof entry.text === "string";
      case "quotes":
        return Array.isArray(entry.quotes) && entry.quotes.every((quote) => quote && typeof quote === "object");
      case "section":
        return !!entry.section && Array.isArray(entry.section.passages);
      case "buttons":
        return Array.isArray(entry.buttons) && entry.buttons.every((button) => button && typeof button === "object");
      default:
        return false;
    }
  }

  function load() {
    try {
      const saved = JSON.parse(localStorage.getItem(storageKey));
      if (saved && Array.isArray(saved.entries)) {
        const sessionId = typeof saved.sessionId === "string" ? saved.sessionId : null;
        return { sessionId, open: saved.open === true, entries: saved.entries.filter(isEntry) };
      }
    } catch (error) {
      // Storage is off or holds something else: start a new conversation.
    }
    return { sessionId: null, open: false, entries: [] };
  }

  const state = load();

  function save() {
    state.entries = state.entries.slice(-MAX_ENTRIES);
    try {
      localStorage.setItem(storageKey, JSON.stringify(state));
    } catch (error) {
      // Without storage the conversation still works; it is just not kept.
    }
  }

  // Builds an element; strings among the children become text nodes, never HTML.
  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (name === "class") node.className = value;
      else node.setAttribute(name, value);
    }
    node.append(...children.filter((child) => child !== null && child !== undefined));
    return node;
  }

  const hidden = (text) => el("span", { class: "ccw-visually-hidden" }, text);

  // ---- The widget's parts ----

  const launcher = el("button", { class: "ccw-launcher", type: "button", "aria-expanded": "false", "aria-controls": "ccw-panel" },
    el("span", { class: "ccw-launcher-icon", "aria-hidden": "true" }), "Ask about social media");
  const closeButton = el("button", { class: "ccw-close", type: "button", "aria-label": "Close the chat" }, "\u00d7");
  const log = el("div", { class: "ccw-log", role: "log", "aria-label": "Conversation", tabindex: "0" },
    el("p", { class: "ccw-intro" },
      "Ask what the councils' guidance says about posting on social media. I quote it word for word and say where it stands."));
  const typing = el("div", { class: "ccw-typing", role: "status", hidden: "" },
    hidden("The assistant is typing"), el("span", { class: "ccw-dots", "aria-hidden": "true" }, el("span"), el("span"), el("span")));
  const status = el("p", { class: "ccw-status", role: "status" });
  const input = el("input", { id: "ccw-input", class: "ccw-input", type: "text", autocomplete: "off", maxlength: "1000",
    placeholder: "Ask about posting on social media" });
  const form = el("form", { class: "ccw-form" },
    el("label", { for: "ccw-input", class: "ccw-visually-hidden" }, "Your question"), input,
    el("button", { class: "ccw-send", type: "submit" }, "Send"));
  const panel = el("section", { id: "ccw-panel", class: "ccw-panel", "aria-labelledby": "ccw-title", hidden: "" },
    el("header", { class: "ccw-header" }, el("h2", { id: "ccw-title", class: "ccw-title" }, TITLE), closeButton),
    log, typing, status, form);
  const root = el("div", { class: "ccw" }, panel, launcher);

  function setStatus(text) {
    status.textContent = text;
  }

  function setOpen(open, moveFocus) {
    state.open = open;
    panel.hidden = !open;
    root.classList.toggle("ccw-is-open", open);
    launcher.setAttribute("aria-expanded", String(open));
    save();
    if (open) {
      scrollToLastQuestion();
      if (moveFocus) input.focus();
    } else if (moveFocus) {
      launcher.focus();
    }
  }

  // ---- Entries: rendering and the transcript ----

  const citationLine = (item) => [item.council, item.document, item.section].filter(Boolean).join(" \u00b7 ");

  function quoteFigure(paragraphs, item) {
    return el("figure", { class: "ccw-quote" },
      el("blockquote", { class: "ccw-passage" }, ...paragraphs.map((text) => el("p", {}, String(text)))),
      el("figcaption", { class: "ccw-citation" }, citationLine(item)));
  }

  function render(entry) {
    switch (entry.kind) {
      case "user":
        return el("div", { class: "ccw-msg ccw-user" }, hidden("You said: "), String(entry.text));
      case "text":
        return el("div", { class: "ccw-msg ccw-bot" }, hidden("Assistant: "), String(entry.text));
      case "quotes":
        return el("div", { class: "ccw-msg ccw-bot ccw-answer" }, hidden("Assistant: "),
          ...entry.quotes.flatMap((quote) => [
            quote.intro ? el("p", { class: "ccw-also" }, String(quote.intro)) : null,
            quoteFigure([quote.text], quote),
          ]).filter(Boolean));
      case "section":
        return el("div", { class: "ccw-msg ccw-bot ccw-answer ccw-full-section" }, hidden("Assistant: "),
          quoteFigure(entry.section.passages, entry.section));
      case "buttons":
        return el("div", { class: "ccw-replies", role: "group", "aria-label": "Suggested replies" },
          ...entry.buttons.map((button) => {
            const node = el("button", { class: "ccw-reply", type: "button" }, button.title);
            node.addEventListener("click", () => {
              send(button.payload, button.title);
              input.focus();
            });
            return node;
          }));
      default:
        return null;
    }
  }

  const nodes = new Map(); // entry -> its element in the log

  function show(entry, before) {
    const node = render(entry);
    if (!node) return;
    nodes.set(entry, node);
    log.insertBefore(node, before ? nodes.get(before) : null);
    scrollToLastQuestion();
  }

  // Shows the last question at the top of the log and its answer below it, so a long answer is
  // read from its start (the best passage); a short one simply ends at the bottom.
  function scrollToLastQuestion() {
    const question = state.entries.filter((entry) => entry.kind === "user").pop();
    const node = question && nodes.get(question);
    log.scrollTop = node ? node.offsetTop - 12 : log.scrollHeight;
  }

  function add(entry) {
    state.entries.push(entry);
    show(entry);
    save();
  }

  function remove(entry) {
    state.entries.splice(state.entries.indexOf(entry), 1);
    const node = nodes.get(entry);
    if (node) node.remove();
    nodes.delete(entry);
  }

  // A structured reply (quotes, a section) comes after the same content sent as plain texts.
  // It is shown after the first of those texts, and what they repeat of it goes: a text made
  // only of quoted lines and citations goes, an introduction ("The whole of 3.3:") stays.
  function isRepeated(line, strings) {
    const core = line.trim().replace(/^\u2014 ?/, "").replace(/^\u201c/, "").replace(/\u201d$/, "").trim();
    return core.length >= 12 && strings.some((s) => s.includes(core));
  }

  function addInPlaceOfCopies(entry, strings) {
    const turnStart = state.entries.map((e) => e.kind).lastIndexOf("user") + 1;
    const copies = state.entries.slice(turnStart)
      .filter((e) => e.kind === "text" && e.text.split("\n").some((line) => isRepeated(line, strings)));
    if (!copies.length) return add(entry);
    const at = state.entries.indexOf(copies[0]) + 1;
    state.entries.splice(at, 0, entry);
    show(entry, state.entries[at + 1]);
    for (const copy of copies) {
      const rest = copy.text.split("\n").filter((line) => !isRepeated(line, strings)).join("\n").trim();
      if (rest) {
        copy.text = rest;
        const node = render(copy);
        nodes.get(copy).replaceWith(node);
        nodes.set(copy, node);
      } else {
        remove(copy);
      }
    }
    save();
  }

  // ---- Messages from the bot ----

  const str = (value) => (value === null || value === undefined ? "" : String(value));
  const quote = (q, intro) => ({ intro, text: str(q.text), council: str(q.council), document: str(q.document),
    section: str(q.section), citation: str(q.citation) });

  // The quotes of a structured reply: an answer (the best passage, then other councils'), the
  // passages that settle a quiz question, or a comparison of councils (those whose guidance
  // addresses the question).
  function quotesOf(custom) {
    if (custom.type === "answer" && Array.isArray(custom.quotes)) {
      return custom.quotes.filter(Boolean).map((q, i) => quote(q, i ? `${str(q.council)} also says:` : ""));
    }
    if (custom.type === "quiz_feedback" && Array.isArray(custom.quotes)) {
      return custom.quotes.filter(Boolean).map((q) => quote(q, ""));
    }
    if (custom.type === "comparison" && Array.isArray(custom.councils)) {
      return custom.councils.filter((row) => row && row.addressed).map((row) => quote(row, `${str(row.council)}:`));
    }
    return [];
  }

  function receive(data) {
    if (!data || typeof data !== "object") return;
    stopWaiting();
    if (typeof data.text === "string" && data.text.trim()) add({ kind: "text", text: data.text });
    const custom = data.custom && typeof data.custom === "object" ? data.custom : {};
    const quotes = quotesOf(custom);
    if (quotes.length) {
      addInPlaceOfCopies({ kind: "quotes", quotes }, quotes.flatMap((q) => [q.intro, q.text, q.citation]));
    } else if (custom.type === "section" && Array.isArray(custom.passages) && custom.passages.length) {
      const section = { council: str(custom.council), document: str(custom.document), section: str(custom.section),
        citation: str(custom.citation), passages: custom.passages.map((p) => str(p && p.text)) };
      addInPlaceOfCopies({ kind: "section", section }, [...section.passages, section.citation]);
    }
    const buttons = Array.isArray(data.quick_replies) ? data.quick_replies : data.buttons;
    if (Array.isArray(buttons) && buttons.length) {
      add({ kind: "buttons", buttons: buttons.filter((b) => b && (b.title || b.payload))
        .map((b) => ({ title: str(b.title || b.payload), payload: str(b.payload || b.title) })) });
    }
  }

  // ---- Talking to the assistant ----

  let socket = null;
  let ready = false; // connected, with a session
  const outbox = [];
  let replyTimer = null;

  function stopWaiting() {
    typing.hidden = true;
    clearTimeout(replyTimer);
  }

  function send(message, shownAs) {
    message = message.trim();
    if (!message) return;
    state.entries.filter((e) => e.kind === "buttons").forEach(remove);
    add({ kind: "user", text: shownAs || message });
    outbox.push(message);
    typing.hidden = false;
    clearTimeout(replyTimer);
    replyTimer = setTimeout(() => {
      stopWaiting();
      setStatus("The assistant has not replied. Please try again.");
    }, REPLY_TIMEOUT_MS);
    flush();
  }

  function flush() {
    if (!ready) return;
    for (const message of outbox.splice(0)) {
      const data = { message, session_id: state.sessionId };
      if (config.council) data.metadata = { council: config.council };
      socket.emit("user_uttered", data);
    }
  }

  function connect() {
    // With credentials, the browser keeps and sends the cookie by which HAProxy keeps this
    // connection's long-polling requests on one Rasa server (`make cluster`, docs/cluster.md).
    socket = window.io(config.server, { withCredentials: true });
    socket.on("connect", () => {
      setStatus("");
      socket.emit("session_request", { session_id: state.sessionId });
    });
    socket.on("session_confirm", (session) => {
      const sessionId = session && typeof session === "object" ? session.session_id : session;
      if (typeof sessionId !== "string") return;
      if (sessionId !== state.sessionId) {
        state.sessionId = sessionId;
        save();
      }
      ready = true;
      flush();
    });
    socket.on("bot_uttered", receive);
    socket.on("connect_error", () => {
      ready = false;
      stopWaiting();
      setStatus("Cannot reach the assistant. Trying again\u2026");
    });
    socket.on("disconnect", () => {
      ready = false;
      setStatus("The connection was lost. Reconnecting\u2026");
    });
  }

  function loadSocketIo(then) {
    if (typeof window.io === "function") return then();
    const tag = el("script", { src: new URL("vendor/socket.io.min.js", base).href });
    tag.addEventListener("load", then);
    tag.addEventListener("error", () => setStatus("The chat could not load. Please try again later."));
    document.head.append(tag);
  }

  // ---- Start ----

  function start() {
    document.head.append(el("link", { rel: "stylesheet", href: new URL("widget.css", base).href }));
    document.body.append(root);
    state.entries.forEach((entry) => show(entry));

    launcher.addEventListener("click", () => setOpen(panel.hidden, true));
    closeButton.addEventListener("click", () => setOpen(false, true));
    panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") setOpen(false, true);
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!config.server) return;
      send(input.value);
      input.value = "";
    });
    setOpen(state.open, false);

    if (config.problem) return setStatus(config.problem);
    loadSocketIo(connect);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
