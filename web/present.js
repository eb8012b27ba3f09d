/*
 * The presenter screen of a training session (/present): one answer at a time, large enough to
 * read from the back of a room; the questions from the room in a queue; the room's quiz.
 *
 * The trainer's own questions go to the Rasa server over socket.io, as the chat widget's do, so
 * the answers are those of every channel. The session (its code, attendees' questions, the quiz
 * rounds) lives in the page server, which pushes changes here as server-sent events. Everything
 * shown is set as text, never as HTML.
 */
(() => {
  "use strict";

  const { $, el, str, setStatus } = window.trainingPage;
  const server = document.body.dataset.server;
  const SESSION_KEY = "training-session";
  const CHAT_KEY = "training-chat";

  // ---- The session ----------------------------------------------------------------------

  let session = null; // {code, key, join_url}
  let events = null;

  async function api(path, options) {
    const response = await fetch(path, {
      method: "POST",
      ...options,
      headers: { "Content-Type": "application/json", "X-Session-Key": session ? session.key : "" },
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || `The page server answered ${response.status}.`);
    return data;
  }

  async function startSession() {
    let saved = null;
    try { saved = JSON.parse(sessionStorage.getItem(SESSION_KEY)); } catch (error) { saved = null; }
    if (saved && typeof saved.code === "string" && typeof saved.key === "string") {
      session = saved;
      try {
        const state = await api(`/api/sessions/${encodeURIComponent(saved.code)}`, { method: "GET" });
        if (!state.ended) return showSession();
      } catch (error) {
        // The session is gone (the server restarted): start another.
      }
    }
    session = null;
    session = await api("/api/sessions", { body: "{}" });
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    showSession();
  }

  function showSession() {
    $("join-info").hidden = false;
    $("join-url").textContent = session.join_url;
    $("code").textContent = session.code;
    const qr = $("qr");
    qr.addEventListener("load", () => { qr.hidden = false; }, { once: true });
    qr.addEventListener("error", () => { qr.hidden = true; }, { once: true });
    qr.src = `/api/sessions/${encodeURIComponent(session.code)}/qr.svg`;
    listen();
  }

  function listen() {
    if (events) events.close();
    events = new EventSource(`/api/sessions/${encodeURIComponent(session.code)}/events?key=${encodeURIComponent(session.key)}`);
    events.onmessage = (message) => {
      let event;
      try { event = JSON.parse(message.data); } catch (error) { return; }
      onEvent(event);
    };
  }

  function onEvent(event) {
    switch (event.type) {
      case "state":
        queue.length = 0;
        (event.state.questions || []).forEach(addToQueue);
        setAttendees(event.state.attendees);
        if (event.state.round) room = event.state.round;
        renderQueue();
        break;
      case "attendees":
        setAttendees(event.count);
        break;
      case "question":
        addToQueue(event.question);
        renderQueue();
        break;
      case "round":
        room = event.round;
        showRoom();
        break;
      case "tally":
        if (room && room.number === event.number) {
          room.tally = event.tally;
          room.votes = event.votes;
          if (currentItem() && currentItem().kind === "room-quiz") render();
        }
        break;
      case "reveal":
        room = event.round;
        showRoom();
        break;
      default:
        break;
    }
  }

  function setAttendees(count) {
    $("attendees").textContent = count ? `${count} ${count === 1 ? "person has" : "people have"} joined` : "";
  }

  // ---- Questions from the room ------------------------------------------------------------

  const queue = []; // {id, text, replies, shown}

  function addToQueue(question) {
    if (!question || typeof question.text !== "string") return;
    if (queue.some((q) => q.id === question.id)) return;
    queue.push({ id: question.id, text: question.text, replies: Array.isArray(question.replies) ? question.replies : [], shown: false });
  }

  function renderQueue() {
    const waiting = queue.filter((q) => !q.shown).length;
    $("queue-count").textContent = waiting ? `(${waiting} waiting)` : "";
    $("queue").replaceChildren(...queue.map((q) => {
      const button = el("button", { type: "button", class: "list-item" + (q.shown ? " shown" : "") }, q.text);
      button.addEventListener("click", () => showRoomQuestion(q));
      return el("li", {}, button);
    }));
  }

  function showRoomQuestion(q) {
    q.shown = true;
    renderQueue();
    addItem({ kind: "answer", question: q.text, from: "From the room", replies: q.replies, asked: false });
  }

  // ---- What has been shown: one item at a time ---------------------------------------------

  const items = []; // {kind, question, from, replies, asked}
  let current = -1;
  let room = null; // the room's current quiz round
  const currentItem = () => items[current];

  function addItem(item) {
    items.push(item);
    current = items.length - 1;
    render();
    renderHistory();
    return item;
  }

  function go(index) {
    if (index < 0 || index >= items.length) return;
    current = index;
    render();
    renderHistory();
  }

  function renderHistory() {
    $("history").replaceChildren(...items.map((item, i) => {
      const button = el("button", { type: "button", class: "list-item" + (i === current ? " current" : "") }, item.question);
      if (i === current) button.setAttribute("aria-current", "true");
      button.addEventListener("click", () => go(i));
      return el("li", {}, button);
    }));
  }

  const citation = (text) => el("p", { class: "citation" }, "\u2014 " + str(text));

  function quoteBlock(paragraphs, cite) {
    return el("figure", { class: "quote" },
      el("blockquote", { class: "passage" }, ...paragraphs.map((p) => el("p", {}, "\u201c" + str(p) + "\u201d"))),
      el("figcaption", {}, citation(cite)));
  }

  // The answer of a turn: its structured payload when there is one, else its texts.
  function answerParts(replies) {
    const custom = (replies.find((r) => r && r.custom && typeof r.custom === "object") || {}).custom;
    const parts = [];
    if (custom && custom.type === "answer" && Array.isArray(custom.quotes) && custom.quotes.length) {
      const best = custom.quotes[0];
      parts.push(quoteBlock([best.text], best.citation));
      return { parts, follow: true };
    }
    if (custom && custom.type === "section" && Array.isArray(custom.passages)) {
      parts.push(el("p", { class: "heading" }, `The whole of ${str(custom.section)}:`));
      parts.push(quoteBlock(custom.passages.map((p) => p && p.text), custom.citation));
      return { parts, follow: false };
    }
    if (custom && custom.type === "comparison" && Array.isArray(custom.councils)) {
      for (const row of custom.councils) {
        parts.push(el("p", { class: "heading" }, str(row.council)));
        parts.push(row.addressed ? quoteBlock([row.text], row.citation)
          : el("p", { class: "note" }, "The guidance I have from this council does not address this."));
      }
      return { parts, follow: false };
    }
    if (replies.some((r) => r && r.custom && QUIZ.includes(r.custom.type))) return { parts: quizParts(replies), follow: false };
    for (const reply of replies) {
      if (reply && typeof reply.text === "string" && reply.text.trim()) parts.push(el("p", { class: "text" }, reply.text));
      parts.push(...replyButtons(reply));
    }
    return { parts, follow: false };
  }

  // The trainer's own quiz ("quiz me", or the help reply's Quiz me button): the verdict, the
  // passages that settle it as quotes with their citations, the next scenario with its options as
  // buttons, or the score. A text that repeats what a payload shows is left out.
  const QUIZ = ["quiz_question", "quiz_feedback", "quiz_result"];

  function quizParts(replies) {
    const customs = replies.map((r) => r && r.custom).filter((c) => c && typeof c === "object");
    const feedback = customs.find((c) => c.type === "quiz_feedback");
    const question = customs.find((c) => c.type === "quiz_question");
    const quotes = feedback && Array.isArray(feedback.quotes) ? feedback.quotes.filter(Boolean) : [];
    // The quotes as texts too, as socket.io sends them: split into messages at blank lines.
    const copies = new Set(quotes.flatMap((q) =>
      `\u201c${str(q.text)}\u201d\n\u2014 ${str(q.citation)}`.split("\n\n").map((part) => part.trim())));
    const parts = [];
    for (const reply of replies) {
      if (!reply) continue;
      if (reply.custom === feedback && feedback) {
        parts.push(...quotes.map((q) => quoteBlock([q.text], q.citation)));
      } else if (reply.custom === question && question) {
        const options = Array.isArray(question.options) ? question.options : [];
        parts.push(el("p", { class: "heading" }, `Question ${str(question.number)} of ${str(question.of)}`));
        parts.push(el("p", { class: "text" }, str(question.question)));
        parts.push(el("div", { class: "follow options" }, ...options.map((o) =>
          choiceButton(`${str(o.letter)}. ${str(o.text)}`, str(o.payload)))));
      } else if (typeof reply.text === "string" && reply.text.trim()) {
        const text = reply.text;
        if (copies.has(text.trim())) continue;
        if (question && text.startsWith(`Question ${question.number} of ${question.of}:`)) continue;
        parts.push(el("p", { class: "text" }, text));
        parts.push(...replyButtons(reply));
      }
    }
    return parts;
  }

  // A reply's buttons (the help reply's Quiz me, a quiz's Another quiz; socket.io sends them as
  // quick_replies): each sends its payload as the trainer's next message.
  function replyButtons(reply) {
    const given = reply && (reply.buttons || reply.quick_replies);
    const buttons = Array.isArray(given) ? given.filter((b) => b && b.payload) : [];
    if (!buttons.length) return [];
    return [el("div", { class: "follow" }, ...buttons.map((b) => choiceButton(str(b.title || b.payload), str(b.payload))))];
  }

  function choiceButton(title, payload) {
    const button = el("button", { type: "button", class: "action" }, title);
    button.addEventListener("click", () => choose(title, payload));
    return button;
  }

  function render() {
    const stage = $("stage");
    const item = currentItem();
    if (!item) return;
    if (item.kind === "room-quiz") return renderRoom(stage);
    const { parts, follow } = answerParts(item.replies);
    const children = [
      el("p", { class: "from" }, item.from),
      el("h2", { class: "question" }, item.question),
    ];
    if (!item.replies.length) children.push(el("p", { class: "waiting", role: "status" }, "Looking in the guidance\u2026"));
    children.push(el("div", { class: parts.length === 1 ? "answer single" : "answer" }, ...parts));
    if (follow) {
      const full = el("button", { type: "button", class: "action", "aria-keyshortcuts": "F" }, "Full section (F)");
      const others = el("button", { type: "button", class: "action", "aria-keyshortcuts": "O" }, "Other councils (O)");
      full.addEventListener("click", () => followUp("/full_section", "Full section"));
      others.addEventListener("click", () => followUp("/other_councils", "Other councils"));
      children.push(el("div", { class: "follow" }, full, others, el("span", { class: "position" }, `${current + 1} of ${items.length}`)));
    } else {
      children.push(el("p", { class: "position" }, `${current + 1} of ${items.length}`));
    }
    stage.replaceChildren(...children);
  }

  // ---- The room's quiz ----------------------------------------------------------------------

  function showRoom() {
    const item = items.find((i) => i.kind === "room-quiz" && i.number === room.number);
    if (item) {
      current = items.indexOf(item);
      render();
      renderHistory();
    } else {
      addItem({ kind: "room-quiz", number: room.number, question: `Quiz ${room.number}: ${room.question}`, replies: [] });
    }
  }

  function renderRoom(stage) {
    const revealed = Array.isArray(room.quotes);
    const tally = room.tally || (room.options || []).map((o) => ({ ...o, votes: 0 }));
    const total = tally.reduce((sum, row) => sum + (row.votes || 0), 0);
    const rows = tally.map((row, i) => {
      const right = revealed && i === room.right;
      const share = total ? Math.round((100 * (row.votes || 0)) / total) : 0;
      return el("li", { class: "option" + (right ? " right" : "") },
        el("span", { class: "option-text" }, `${str(row.letter)}. ${str(row.text)}`, right ? el("strong", {}, " \u2713 right") : null),
        el("span", { class: "bar-track", "aria-hidden": "true" }, el("span", { class: "bar-fill", style: `width: ${share}%` })),
        el("span", { class: "votes" }, `${row.votes || 0}`));
    });
    const children = [
      el("p", { class: "from" }, `Quiz for the room \u00b7 question ${room.number}`),
      el("h2", { class: "question" }, str(room.question)),
      el("ol", { class: "options", "aria-label": "Options and answers so far" }, ...rows),
      el("p", { class: "tally", role: "status" }, `${total} ${total === 1 ? "answer" : "answers"}`),
    ];
    if (revealed) {
      children.push(el("p", { class: "heading" }, `The answer: ${str(room.answer)}. The guidance says:`));
      children.push(...room.quotes.map((q) => quoteBlock([q.text], q.citation)));
      const next = el("button", { type: "button", class: "action" }, "Next quiz question");
      next.addEventListener("click", nextRound);
      children.push(el("div", { class: "follow" }, next));
    } else {
      const reveal = el("button", { type: "button", class: "action", id: "reveal" }, "Show the answer");
      reveal.addEventListener("click", revealRound);
      children.push(el("div", { class: "follow" }, reveal));
    }
    stage.replaceChildren(...children);
  }

  async function nextRound() {
    try {
      await api(`/api/sessions/${encodeURIComponent(session.code)}/quiz/next`, { body: "{}" });
      setStatus("");
    } catch (error) {
      setStatus(error.message);
    }
  }

  async function revealRound() {
    try {
      await api(`/api/sessions/${encodeURIComponent(session.code)}/quiz/reveal`, { body: "{}" });
    } catch (error) {
      setStatus(error.message);
    }
  }

  // ---- Asking the assistant over socket.io --------------------------------------------------

  let socket = null;
  let ready = false;
  const outbox = [];
  let collecting = null; // the item the bot's messages go to
  let lastAsked = null; // the question the Rasa conversation last answered
  let skipUntilAnswer = null; // a follow-up to send once a silent re-ask is answered
  // The replies that answer a question from the guidance: these go into the session's handout.
  const ANSWERS = ["answer", "not_covered", "comparison", "section"];

  function emit(message) {
    outbox.push(message);
    flush();
  }

  function flush() {
    if (!ready) return;
    for (const message of outbox.splice(0)) {
      socket.emit("user_uttered", { message, session_id: sessionStorage.getItem(CHAT_KEY) });
    }
  }

  function ask(text) {
    text = text.trim();
    if (!text) return;
    collecting = addItem({ kind: "answer", question: text, from: "Trainer's question", replies: [], asked: true });
    lastAsked = text;
    emit(text);
  }

  // A button of a reply: its title is shown as what the trainer said, its payload is sent.
  function choose(title, payload) {
    collecting = addItem({ kind: "answer", question: title, from: "Trainer's choice", replies: [], asked: false });
    emit(payload);
  }

  // Full section and Other councils are about the conversation's last question: an earlier one
  // is asked again first, without showing its answer.
  function followUp(payload, title) {
    const item = currentItem();
    if (!item || item.kind !== "answer" || !answerParts(item.replies).follow) return;
    const next = { kind: "answer", question: `${title}: ${item.question}`, from: title, replies: [], asked: false };
    if (lastAsked !== item.question) {
      skipUntilAnswer = { payload, item: next };
      lastAsked = item.question;
      collecting = null;
      addItem(next);
      emit(item.question);
      return;
    }
    collecting = addItem(next);
    emit(payload);
  }

  function receive(data) {
    if (!data || typeof data !== "object") return;
    if (skipUntilAnswer) {
      if (data.custom && typeof data.custom === "object") {
        const { payload, item } = skipUntilAnswer;
        skipUntilAnswer = null;
        collecting = item;
        emit(payload);
      }
      return;
    }
    if (!collecting) return;
    collecting.replies.push(data);
    if (collecting === currentItem()) render();
    const custom = data.custom;
    if (custom && typeof custom === "object" && ANSWERS.includes(custom.type) && collecting.asked && session) {
      const ids = custom.type === "answer" && Array.isArray(custom.quotes) ? custom.quotes.map((q) => str(q.passage_id)) : [];
      api(`/api/sessions/${encodeURIComponent(session.code)}/asked`,
        { body: JSON.stringify({ question: collecting.question, passage_ids: ids }) }).catch(() => {});
    }
  }

  function connect() {
    if (typeof window.io !== "function" || !server) {
      setStatus("The assistant cannot be reached: the socket.io client did not load.");
      return;
    }
    socket = window.io(server);
    socket.on("connect", () => {
      setStatus("");
      socket.emit("session_request", { session_id: sessionStorage.getItem(CHAT_KEY) });
    });
    socket.on("session_confirm", (confirmed) => {
      const id = confirmed && typeof confirmed === "object" ? confirmed.session_id : confirmed;
      if (typeof id !== "string") return;
      sessionStorage.setItem(CHAT_KEY, id);
      ready = true;
      flush();
    });
    socket.on("bot_uttered", receive);
    socket.on("connect_error", () => { ready = false; setStatus("Cannot reach the assistant. Trying again\u2026"); });
    socket.on("disconnect", () => { ready = false; setStatus("The connection to the assistant was lost. Reconnecting\u2026"); });
  }

  // ---- Ending ------------------------------------------------------------------------------

  async function endSession() {
    try {
      const links = await api(`/api/sessions/${encodeURIComponent(session.code)}/end`, { body: "{}" });
      if (events) events.close();
      sessionStorage.removeItem(SESSION_KEY);
      $("end-confirm").hidden = true;
      $("end").hidden = true;
      $("quiz-next").hidden = true;
      const stage = $("stage");
      const restart = el("button", { type: "button", class: "action" }, "Start a new session");
      restart.addEventListener("click", () => window.location.reload());
      stage.replaceChildren(
        el("h2", { class: "question" }, `Session ${session.code} has ended`),
        el("p", { class: "text" }, "The handout lists the session's questions with the quoted guidance, and the quiz results."),
        el("p", { class: "follow" },
          el("a", { class: "action", href: links.handout, target: "_blank", id: "handout-link" }, "Open the handout to print"),
          el("a", { class: "action quiet", href: links.markdown, target: "_blank", id: "markdown-link" }, "Handout as Markdown")),
        el("p", { class: "follow" }, restart));
      stage.focus();
    } catch (error) {
      setStatus(error.message);
    }
  }

  // ---- Start -------------------------------------------------------------------------------

  function typing() {
    const active = document.activeElement;
    return active && (active.tagName === "INPUT" || active.tagName === "TEXTAREA");
  }

  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (typing()) {
      if (event.key === "Escape") document.activeElement.blur();
      return;
    }
    const key = event.key;
    if (key === "ArrowLeft" || key === "ArrowUp" || key === "PageUp") go(current - 1);
    else if (key === "ArrowRight" || key === "ArrowDown" || key === "PageDown") go(current + 1);
    else if (key === "Home") go(0);
    else if (key === "End") go(items.length - 1);
    else if (key === "f" || key === "F") followUp("/full_section", "Full section");
    else if (key === "o" || key === "O") followUp("/other_councils", "Other councils");
    else if (key === "/") { $("question").focus(); }
    else return;
    event.preventDefault();
  });

  $("ask").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("question");
    ask(input.value);
    input.value = "";
  });
  $("quiz-next").addEventListener("click", nextRound);
  $("end").addEventListener("click", () => { $("end-confirm").hidden = false; $("end-yes").focus(); });
  $("end-no").addEventListener("click", () => { $("end-confirm").hidden = true; $("end").focus(); });
  $("end-yes").addEventListener("click", endSession);

  connect();
  startSession().catch((error) => setStatus(`The session could not start: ${error.message}`));
  $("question").focus();
})();
