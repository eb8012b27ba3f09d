"""The page server (port WEB_PORT, defaults.env): the demo page and chat widget (web/), the presenter
screen of a training session (/present), the attendees' page (/join/<code>), the session API the
two use, and the session handout.

Attendees' questions go to the Rasa server's REST channel, so they pass the same checks (length,
language) and get the same answers as on every other channel; each attendee is a conversation of
its own. The presenter screen asks its own questions over socket.io, as the chat widget does.
Changes reach the presenter screen and the phones as server-sent events.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import io
import json
import logging
import re
import time
from urllib.parse import quote, urlsplit

import aiohttp
import segno
from aiohttp import web

from bot import index
from bot import quiz as quizzes
from bot.answer import DEFAULT_CONTACTS, passage_payload
from bot.config import PROJECT_ROOT, apply_environment_defaults, server_addresses, settings
from bot.language import is_button
from pages import handout
from pages.sessions import Session, SessionProblem, Sessions

log = logging.getLogger("pages")

WEB_DIR = PROJECT_ROOT / "web"
CODE = re.compile(r"[A-Za-z0-9]{1,12}")
# Replies that answer a question from the guidance: they go into the presenter's queue.
ANSWERS = {"answer", "not_covered", "comparison", "section"}
KEEP_ALIVE_SECONDS = 15
RASA_TIMEOUT = aiohttp.ClientTimeout(total=60)
UNAVAILABLE = "The assistant cannot answer right now. Please try again in a minute, or ask the trainer."
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}

SESSIONS = web.AppKey("sessions", Sessions)
HTTP = web.AppKey("http", aiohttp.ClientSession)
PASSAGES = web.AppKey("passages", dict)


def problem_response(error: SessionProblem) -> web.Response:
    return web.json_response({"error": error.message}, status=error.status)


def message_page(title: str, message: str, status: int) -> web.Response:
    """A small page that says one thing, for a code that leads nowhere."""
    e = html.escape
    body = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{e(title)}</title>
<link rel="stylesheet" href="/training.css"></head>
<body class="attendee"><main class="join"><h1>{e(title)}</h1><p class="notice" role="alert">{e(message)}</p>
<form class="code-form" action="/join" method="get"><label for="code">Session code</label>
<input id="code" name="code" autocomplete="off" autocapitalize="characters" maxlength="12" required>
<button type="submit">Join</button></form></main></body></html>"""
    return web.Response(text=body, status=status, content_type="text/html", headers=SECURITY_HEADERS)


async def read_json(request: web.Request) -> dict:
    try:
        data = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise SessionProblem(400, "Send a JSON object.") from None
    if not isinstance(data, dict):
        raise SessionProblem(400, "Send a JSON object.")
    return data


def public_url(request: web.Request) -> str:
    return settings().training_public_url or f"{request.scheme}://{request.host}"


def chat_server(request: web.Request) -> str:
    configured = settings().chat_server_url
    if configured:
        return configured
    port = server_addresses().rasa_port
    host = urlsplit(f"//{request.host}").hostname or "localhost"
    return f"{request.scheme}://{host}:{port}"


def session_of(request: web.Request, ended_too: bool = False) -> Session:
    return request.app[SESSIONS].find(request.match_info["code"], ended_too=ended_too)


def presenter_session(request: web.Request, key: str | None, ended_too: bool = False) -> Session:
    session = session_of(request, ended_too=ended_too)
    session.check_key(key)
    return session


def handled(handler):
    """Answers a SessionProblem with its status and message (JSON)."""

    async def run(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except SessionProblem as error:
            return problem_response(error)

    return run


# ------------------------------------------------------------------ pages


def page_naming_the_chat_server(name: str, request: web.Request) -> web.Response:
    """A page of web/ with {{CHAT_SERVER}} replaced by the Rasa server's address."""
    text = (WEB_DIR / name).read_text(encoding="utf-8")
    text = text.replace("{{CHAT_SERVER}}", html.escape(chat_server(request), quote=True))
    return web.Response(text=text, content_type="text/html", headers=SECURITY_HEADERS)


async def demo_page(request: web.Request) -> web.Response:
    return page_naming_the_chat_server("index.html", request)


async def present_page(request: web.Request) -> web.Response:
    return page_naming_the_chat_server("present.html", request)


async def join_page(request: web.Request) -> web.StreamResponse:
    code = request.match_info.get("code") or request.query.get("code", "")
    if request.match_info.get("code") is None:  # the form on a message page: /join?code=...
        code = code.strip().upper()
        if CODE.fullmatch(code):
            raise web.HTTPFound(f"/join/{code}")
        return message_page("Join a training session", "Type the code shown on the screen.", 400)
    try:
        request.app[SESSIONS].find(code)
    except SessionProblem as error:
        title = "This session has ended" if error.status == 410 else "No such session"
        return message_page(title, error.message, error.status)
    # Never from a cache: whether a code still leads to a session is for the server to say.
    return web.FileResponse(WEB_DIR / "join.html", headers={**SECURITY_HEADERS, "Cache-Control": "no-store"})


# ------------------------------------------------------------------ presenter API


@handled
async def start_session(request: web.Request) -> web.Response:
    session = request.app[SESSIONS].start()
    log.info("training session %s started", session.code)
    return web.json_response(
        {"code": session.code, "key": session.key, "join_url": f"{public_url(request)}/join/{session.code}"}
    )


@handled
async def session_state(request: web.Request) -> web.Response:
    session = presenter_session(request, request.headers.get("X-Session-Key"), ended_too=True)
    return web.json_response({**session.state(), "join_url": f"{public_url(request)}/join/{session.code}"})


@handled
async def trainer_asked(request: web.Request) -> web.Response:
    """A question the trainer asked on the presenter screen, with the ids of the passages its
    answer quoted: for the handout, quoted from the index, not from what the browser sent."""
    data = await read_json(request)
    session = presenter_session(request, request.headers.get("X-Session-Key"))
    text = data.get("question")
    ids = data.get("passage_ids") or []
    if not isinstance(text, str) or not text.strip() or len(text) > settings().max_message_chars:
        raise SessionProblem(400, "`question` must be the question's text.")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise SessionProblem(400, "`passage_ids` must be a list of passage ids.")
    if any(q.text == text for q in session.questions):  # a question from the room, shown
        return web.json_response({"recorded": False})
    if len(session.questions) >= settings().max_session_questions:
        raise SessionProblem(429, "This session has had as many questions as it can take.")
    passages = [request.app[PASSAGES][i] for i in ids[:3] if i in request.app[PASSAGES]]
    payload = (
        {"type": "answer", "question": text, "quotes": [passage_payload(p) for p in passages]}
        if passages
        else {"type": "not_covered", "question": text, "contacts": DEFAULT_CONTACTS}
    )
    session.add_question(text, "trainer", [{"custom": payload}], time.time())
    return web.json_response({"recorded": True})


@handled
async def quiz_next(request: web.Request) -> web.Response:
    session = presenter_session(request, request.headers.get("X-Session-Key"))
    return web.json_response(session.next_round().question())


@handled
async def quiz_reveal(request: web.Request) -> web.Response:
    session = presenter_session(request, request.headers.get("X-Session-Key"))
    return web.json_response(session.reveal().reveal())


@handled
async def end_session(request: web.Request) -> web.Response:
    session = presenter_session(request, request.headers.get("X-Session-Key"))
    request.app[SESSIONS].end(session)
    log.info(
        "training session %s ended: %d attendees, %d questions",
        session.code,
        len(session.attendees),
        len(session.questions),
    )
    key = quote(session.key)
    return web.json_response(
        {"handout": f"/handout/{session.code}?key={key}", "markdown": f"/handout/{session.code}.md?key={key}"}
    )


async def qr_code(request: web.Request) -> web.Response:
    """The join link as a QR code (SVG), made here: no online service sees it."""
    try:
        session = session_of(request)
    except SessionProblem as error:
        return problem_response(error)
    buffer = io.BytesIO()
    code = segno.make(f"{public_url(request)}/join/{session.code}", error="m")
    code.save(buffer, kind="svg", scale=8, border=2, dark="#0b0c0c", light="#ffffff")
    return web.Response(
        body=buffer.getvalue(), content_type="image/svg+xml", headers={"Cache-Control": "no-store"}
    )


async def handout_page(request: web.Request) -> web.Response:
    try:
        session = presenter_session(request, request.query.get("key"), ended_too=True)
    except SessionProblem as error:
        return message_page("No handout", error.message, error.status)
    if request.match_info.get("format") == ".md":
        return web.Response(
            text=handout.markdown(session),
            content_type="text/markdown",
            headers={
                **SECURITY_HEADERS,
                "Content-Disposition": f'inline; filename="training-{session.code}.md"',
            },
        )
    markdown_href = f"/handout/{session.code}.md?key={quote(session.key)}"
    return web.Response(
        text=handout.page(session, markdown_href), content_type="text/html", headers=SECURITY_HEADERS
    )


# ------------------------------------------------------------------ attendee API


@handled
async def join(request: web.Request) -> web.Response:
    session = session_of(request)
    attendee = session.join()
    return web.json_response({"attendee": attendee.token, "code": session.code})


@handled
async def session_status(request: web.Request) -> web.Response:
    """Whether the code leads to a running session (200), or why not (404, 410), and whether a
    phone's token still counts in it."""
    session = session_of(request)
    return web.json_response(
        {"code": session.code, "joined": request.query.get("attendee") in session.attendees}
    )


@handled
async def ask(request: web.Request) -> web.Response:
    data = await read_json(request)
    session = session_of(request)
    attendee = session.attendee(data.get("attendee"))
    message = data.get("message")
    if not isinstance(message, str):
        raise SessionProblem(400, "`message` must be text.")
    session.may_ask(attendee)
    attendee.asked += 1
    attendee.waiting = True
    asked_at = time.time()
    try:
        replies = await ask_rasa(request.app[HTTP], f"training-{session.code}-{attendee.token[:16]}", message)
    finally:
        attendee.waiting = False
    if replies is None:
        return web.json_response({"error": UNAVAILABLE}, status=502)
    kinds = {r["custom"].get("type") for r in replies if isinstance(r.get("custom"), dict)}
    if kinds & ANSWERS and not is_button(message) and session.ended is None:
        session.add_question(message.strip(), "room", replies, asked_at)
    return web.json_response({"replies": replies})


async def ask_rasa(http: aiohttp.ClientSession, sender: str, message: str) -> list[dict] | None:
    """The bot's replies over its REST channel, or None if it cannot be reached."""
    try:
        async with http.post(
            server_addresses().webhook_url,
            json={"sender": sender, "message": message},
            timeout=RASA_TIMEOUT,
        ) as response:
            if response.status != 200:
                log.warning("training: the Rasa server answered %s", response.status)
                return None
            replies = await response.json()
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
        log.warning("training: the Rasa server cannot be reached: %s", type(error).__name__)
        return None
    return [r for r in replies if isinstance(r, dict)] if isinstance(replies, list) else None


@handled
async def vote(request: web.Request) -> web.Response:
    data = await read_json(request)
    session = session_of(request)
    attendee = session.attendee(data.get("attendee"))
    session.vote(attendee, data.get("scenario"), data.get("option"))
    return web.json_response({"recorded": True})


# ------------------------------------------------------------------ events


def sse(event: dict) -> bytes:
    return f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode()


async def stream(
    request: web.Request, session: Session, presenter: bool, first: list[dict]
) -> web.StreamResponse:
    queue = session.listen()
    queue.presenter = presenter
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
    try:
        await response.prepare(request)
        for event in first:
            await response.write(sse(event))
        while session.ended is None or not queue.empty():
            try:
                event = await asyncio.wait_for(queue.get(), KEEP_ALIVE_SECONDS)
            except asyncio.TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            await response.write(sse(event))
            if event["type"] == "ended":
                break
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        session.unlisten(queue)
    return response


@handled
async def presenter_events(request: web.Request) -> web.StreamResponse:
    session = presenter_session(request, request.query.get("key"))
    return await stream(request, session, True, [{"type": "state", "state": session.state()}])


@handled
async def attendee_events(request: web.Request) -> web.StreamResponse:
    session = session_of(request)
    session.attendee(request.query.get("attendee"))
    current = session.round
    first = []
    if current and current.revealed:
        first.append({"type": "reveal", "round": current.reveal()})
    elif current:
        first.append({"type": "round", "round": current.question()})
    return await stream(request, session, False, first)


# ------------------------------------------------------------------ the app


async def static_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def app() -> web.Application:
    config = settings()
    passages = index.load_passages(config)
    content = quizzes.load_for(passages, config.corpus_dir)
    application = web.Application(client_max_size=64 * 1024)
    application[SESSIONS] = Sessions(config, content)
    application[PASSAGES] = {p.id: p for p in passages}

    async def http_client(application: web.Application):
        application[HTTP] = aiohttp.ClientSession()
        yield
        await application[HTTP].close()

    application.cleanup_ctx.append(http_client)
    application.on_response_prepare.append(static_headers)
    application.add_routes(
        [
            web.get("/present", present_page),
            web.get("/join", join_page),
            web.get("/join/{code}", join_page),
            web.post("/api/sessions", start_session),
            web.get("/api/sessions/{code}", session_state),
            web.get("/api/sessions/{code}/events", presenter_events),
            web.get("/api/sessions/{code}/qr.svg", qr_code),
            web.post("/api/sessions/{code}/asked", trainer_asked),
            web.post("/api/sessions/{code}/quiz/next", quiz_next),
            web.post("/api/sessions/{code}/quiz/reveal", quiz_reveal),
            web.post("/api/sessions/{code}/end", end_session),
            web.get("/api/join/{code}", session_status),
            web.post("/api/join/{code}", join),
            web.get("/api/join/{code}/events", attendee_events),
            web.post("/api/join/{code}/ask", ask),
            web.post("/api/join/{code}/vote", vote),
            web.get(r"/handout/{code:[A-Za-z0-9]+}{format:(\.md)?}", handout_page),
            web.get("/", demo_page),
            web.get("/index.html", demo_page),
            web.static("/", WEB_DIR),
        ]
    )
    return application


def main(argv: list[str] | None = None) -> None:
    apply_environment_defaults()
    parser = argparse.ArgumentParser(
        description="The page server: demo page, presenter screen, training sessions"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=server_addresses().web_port)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # request lines hold codes and keys
    web.run_app(app(), host=args.host, port=args.port, shutdown_timeout=3, print=None)
