/*
 * An attendee's page of a training session (/join/<code>), made for phones: ask a question and
 * get the cited answer at once (the trainer sees it queued on the presenter screen), and answer
 * the quiz questions the trainer puts to the room. No name is asked: the page server knows the
 * phone only by a random token, kept in this browser for this session. Everything shown is set
 * as text, never as HTML.
 */
(() => {
  "use strict";

  const { $, el, str, setStatus } = window.trainingPage;
  const code = decodeURIComponent(window.location.pathname.split("/").pop() || "").toUpperCase();
  const tokenKey = `training-attendee:${code}`;
  let attendee = null;
  let events = null;
  let ended = false;

  function notice(text) {
    const node = $("notice");
    node.textContent = text;
    node.hidden = !text;
  }

  function stop(message) {
    ended = true;
    notice(message);
    $("question").disabled = true;
    $("ask").querySelector("button").disabled = true;
    $("quiz").querySelectorAll("button").forEach((b) => { b.disabled = true; });
    if (events) events.close();
  }

  async function post(path, body) {
    const response = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const data = await response.json().catch(() => ({}));
    if (response.status === 404 || response.status === 410) stop(data.error || "This session is not running.");
    if (!response.ok) throw new Error(data.error || `The server answered ${response.status}.`);
    return data;
  }

  const api = (what) => `/api/join/${encodeURIComponent(code)}${what}`;

  async function joinSession() {
    attendee = localStorage.getItem(tokenKey);
    if (!attendee) {
      const joined = await post(api(""), {});
      attendee = joined.attendee;
      localStorage.setItem(tokenKey, attendee);
    }
    events = new EventSource(api(`/events?attendee=${encodeURIComponent(attendee)}`));
    events.onmessage = (message) => {
      let event;
      try { event = JSON.parse(message.data); } catch (error) { return; }
      if (event.type === "round") showRound(event.round);
      else if (event.type === "reveal") showReveal(event.round);
      else if (event.type === "ended") stop(str(event.message));
    };
    events.onerror = async () => {
      if (ended) return;
      // The stream broke: the session ended or is gone, or the server restarted and no longer
      // knows this phone (then it joins again); otherwise EventSource reconnects by itself.
      const response = await fetch(api(`?attendee=${encodeURIComponent(attendee)}`)).catch(() => null);
      if (!response) return;
      const data = await response.json().catch(() => ({}));
      if (!response.ok) {
        stop(data.error || "This training session is not running any more.");
      } else if (!data.joined) {
        localStorage.removeItem(tokenKey);
        events.close();
        joinSession().catch((error) => notice(error.message));
      }
    };
  }

  // ---- Questions -------------------------------------------------------------------------

  function quote(paragraphs, citation) {
    return el("figure", { class: "quote" },
      el("blockquote", { class: "passage" }, ...paragraphs.map((p) => el("p", {}, "\u201c" + str(p) + "\u201d"))),
      el("figcaption", { class: "citation" }, "\u2014 " + str(citation)));
  }

  // The reply as the chat widget shows it: quotes with citations from the structured payload,
  // the other texts as they are; the payload's plain-text copies are left out.
  function renderReplies(replies) {
    const custom = (replies.find((r) => r && r.custom && typeof r.custom === "object") || {}).custom || {};
    const parts = [];
    let quoted = [];
    if ((custom.type === "answer" || custom.type === "quiz_feedback") && Array.isArray(custom.quotes)) {
      quoted = custom.quotes.map((q) => str(q && q.text));
      custom.quotes.forEach((q, i) => {
        if (i && custom.type === "answer") parts.push(el("p", { class: "also" }, `${str(q.council)} also says:`));
        parts.push(quote([q.text], q.citation));
      });
    } else if (custom.type === "section" && Array.isArray(custom.passages)) {
      quoted = custom.passages.map((p) => str(p && p.text));
      parts.push(el("p", { class: "also" }, `The whole of ${str(custom.section)}:`), quote(quoted, custom.citation));
    } else if (custom.type === "comparison" && Array.isArray(custom.councils)) {
      custom.councils.forEach((row) => {
        parts.push(el("p", { class: "also" }, `${str(row.council)}:`));
        if (row.addressed) { quoted.push(str(row.text)); parts.push(quote([row.text], row.citation)); }
        else parts.push(el("p", {}, "The guidance I have from this council does not address this."));
      });
    }
    const texts = replies.filter((r) => r && typeof r.text === "string" && r.text.trim()
      && !quoted.some((q) => q && r.text.includes(q)) && !(custom.type === "comparison" && custom.councils.some((row) => r.text.startsWith(`${row.council}:`))));
    const buttons = replies.flatMap((r) => (Array.isArray(r && r.buttons) ? r.buttons : []));
    const nodes = [...texts.map((r) => el("p", { class: "text" }, r.text)), ...parts];
    if (buttons.length) {
      nodes.push(el("div", { class: "replies", role: "group", "aria-label": "Follow-up" }, ...buttons.map((b) => {
        const button = el("button", { type: "button", class: "action quiet" }, str(b.title || b.payload));
        button.addEventListener("click", () => send(str(b.payload || b.title), str(b.title || b.payload)));
        return button;
      })));
    }
    return nodes;
  }

  async function send(message, shownAs) {
    message = message.trim();
    if (!message || ended) return;
    const entry = el("li", { class: "entry" }, el("p", { class: "asked" }, shownAs || message));
    const answer = el("div", { class: "answer" }, el("p", { class: "waiting" }, "Looking in the guidance\u2026"));
    entry.append(answer);
    $("log").prepend(entry);
    try {
      const data = await post(api("/ask"), { attendee, message });
      answer.replaceChildren(...renderReplies(Array.isArray(data.replies) ? data.replies : []));
      setStatus("Answer received.");
    } catch (error) {
      answer.replaceChildren(el("p", { class: "problem" }, error.message));
    }
  }

  $("ask").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("question");
    const text = input.value;
    input.value = "";
    send(text);
  });
  $("question").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("ask").requestSubmit();
    }
  });

  // ---- The room's quiz -------------------------------------------------------------------

  let round = null;
  let chosen = null;

  function showRound(data) {
    round = data;
    chosen = null;
    const section = $("quiz");
    const buttons = (data.options || []).map((option, i) => {
      const button = el("button", { type: "button", class: "option-button", "aria-pressed": "false" },
        `${str(option.letter)}. ${str(option.text)}`);
      button.addEventListener("click", () => vote(i, button));
      return button;
    });
    section.replaceChildren(
      el("h2", {}, `Quiz question ${str(data.number)}`),
      el("p", { class: "scenario" }, str(data.question)),
      el("div", { class: "options", role: "group", "aria-label": "Your answer" }, ...buttons),
      el("p", { class: "chosen", id: "chosen", role: "status" }, "Choose one answer."));
    section.hidden = false;
  }

  async function vote(option, button) {
    try {
      await post(api("/vote"), { attendee, scenario: round.scenario, option });
      chosen = option;
      $("quiz").querySelectorAll(".option-button").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
      $("chosen").textContent = `You chose ${"ABC"[option]}. The trainer will show the answer.`;
    } catch (error) {
      $("chosen").textContent = error.message;
    }
  }

  function showReveal(data) {
    if (!round || round.number !== data.number) showRound(data);
    const right = chosen === data.right;
    const verdict = chosen === null ? `The answer: ${str(data.answer)}.`
      : right ? `Right! ${str(data.answer)}.` : `Not this time: the answer is ${str(data.answer)}.`;
    const section = $("quiz");
    section.querySelectorAll(".option-button").forEach((b) => { b.disabled = true; });
    $("chosen").textContent = verdict;
    section.append(el("p", { class: "also" }, "The guidance says:"),
      ...(data.quotes || []).map((q) => quote([q.text], q.citation)));
  }

  $("code").textContent = code;
  joinSession().catch((error) => notice(error.message));
})();
