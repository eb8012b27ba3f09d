"""Training sessions over the page server's HTTP API, as the presenter screen and the phones use
it, against the running servers: bad codes, ended sessions, floods, unreadable questions."""

import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.config import server_addresses, settings
from channels.checks import NOT_ENGLISH

PAGES = f"http://127.0.0.1:{server_addresses().web_port}"


def call(path, body=None, key=None, method=None):
    """(status, JSON or text) of a request to the page server; errors are returned, not raised."""
    headers = {"Content-Type": "application/json"}
    if key:
        headers["X-Session-Key"] = key
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(PAGES + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=120) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


@pytest.fixture
def session(servers):
    status, started = call("/api/sessions", {})
    assert status == 200
    yield started
    call(f"/api/sessions/{started['code']}/end", {}, key=started["key"])


def join(code):
    status, joined = call(f"/api/join/{code}", {})
    assert status == 200, joined
    return joined["attendee"]


def ask(code, attendee, message):
    return call(f"/api/join/{code}/ask", {"attendee": attendee, "message": message})


def queued(session):
    status, state = call(f"/api/sessions/{session['code']}", key=session["key"], method="GET")
    assert status == 200
    return [q["text"] for q in state["questions"]]


def test_unknown_and_ended_codes_get_a_clear_message(servers):
    status, page = call("/join/ZZZZZZ")
    assert status == 404 and "There is no training session with the code ZZZZZZ" in page
    status, error = call("/api/join/ZZZZZZ", {})
    assert status == 404 and "no training session" in error["error"]
    status, page = call("/join/%3Cscript%3E")
    assert status == 404 and "<script>" not in page

    _, started = call("/api/sessions", {})
    code = started["code"]
    attendee = join(code)
    assert call(f"/api/sessions/{code}/end", {}, key=started["key"])[0] == 200
    status, page = call(f"/join/{code}")
    assert status == 410 and f"The training session {code} has ended" in page
    status, error = ask(code, attendee, "Can I tweet after a drink?")
    assert status == 410 and "has ended" in error["error"]


def test_only_the_presenter_can_run_and_end_the_session(session):
    code = session["code"]
    for path in ("/quiz/next", "/quiz/reveal", "/end", "/asked"):
        status, error = call(f"/api/sessions/{code}{path}", {}, key="not-the-key")
        assert status == 403, path
    assert call(f"/handout/{code}?key=wrong")[0] == 403
    assert call(f"/api/sessions/{code}/events?key=wrong")[0] == 403


def test_a_flood_of_questions_is_bounded(session):
    code = session["code"]
    attendee = join(code)
    with ThreadPoolExecutor(5) as pool:
        results = list(pool.map(lambda _: ask(code, attendee, "hello"), range(5)))
    statuses = sorted(status for status, _ in results)
    assert statuses[0] == 200 and 429 in statuses, "one question at a time per phone"
    assert all("wait for the answer" in body["error"] for status, body in results if status == 429)
    asked = statuses.count(200)
    each = settings().max_attendee_questions
    for _ in range(each - asked):
        assert ask(code, attendee, "hello")[0] == 200
    status, error = ask(code, attendee, "hello")
    assert status == 429 and f"You have asked {each} questions" in error["error"]
    assert queued(session) == [], "small talk is not a question for the room"


def test_a_session_holds_a_bounded_number_of_attendees(session):
    limit = settings().max_attendees
    for _ in range(limit):
        join(session["code"])
    status, error = call(f"/api/join/{session['code']}", {})
    assert status == 429 and f"at most {limit} people" in error["error"]


def test_questions_pass_the_same_checks_as_every_channel_and_only_answers_are_queued(session):
    code = session["code"]
    attendee = join(code)
    limit = settings().max_message_chars
    status, reply = ask(code, attendee, "x" * (limit + 1))
    assert status == 200 and "characters long, and I can read at most" in reply["replies"][0]["text"]
    status, reply = ask(code, attendee, "Kann ich als Stadtrat auf Facebook über einen Bauantrag schreiben?")
    assert status == 200 and reply["replies"][0]["text"] == NOT_ENGLISH
    question = "Can I post this? <img src=x onerror=alert(1)>"
    status, reply = ask(code, attendee, question)
    assert status == 200 and any(r.get("custom") for r in reply["replies"])
    assert queued(session) == [question]
    assert call(f"/api/join/{code}/ask", b"not json")[0] == 400
    assert call(f"/api/join/{code}/ask", {"attendee": attendee, "message": 5})[0] == 400


def test_the_join_link_as_a_qr_code_is_made_on_the_server(session):
    status, body = call(f"/api/sessions/{session['code']}/qr.svg")
    assert status == 200 and body.lstrip().startswith("<?xml") and "<svg" in body
    assert call("/api/sessions/ZZZZZZ/qr.svg")[0] == 404


@pytest.mark.parametrize("path", ["/", "/index.html", "/present"])
def test_the_demo_page_and_presenter_screen_name_the_rasa_server_of_this_installation(servers, path):
    """No page names a fixed address: the chat server is this page's host on RASA_PORT."""
    status, page = call(path, method="GET")
    assert status == 200
    assert f'data-server="http://127.0.0.1:{server_addresses().rasa_port}"' in page
    assert "{{" not in page
