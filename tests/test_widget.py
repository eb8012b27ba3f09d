"""The chat widget in a real browser: Debian's Chromium, driven by Playwright, on the demo page that
`make run` serves, talking to the real servers over socket.io. Screenshots go to var/screenshots/."""

import json
import sqlite3
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from bot.config import server_addresses
from bot.corpus import SECTION_SEPARATOR, load_corpus

ROOT = Path(__file__).resolve().parent.parent
ADDRESSES = server_addresses()
PAGE = f"{ADDRESSES.web_url}/"
RASA = ADDRESSES.rasa_url
WIDGET_SERVER = f"http://localhost:{ADDRESSES.rasa_port}"  # the Rasa server as the demo page names it
OTHER_ORIGIN = f"http://127.0.0.1:{ADDRESSES.web_port}"  # the demo page, at an origin not allowed
SCREENSHOTS = ROOT / "var" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
REPLY_TIMEOUT = 60_000  # ms; the first answer after start-up is the slowest

QUESTION = "Can I tweet my view on a planning application before the committee decides?"
INJECTION = "Can I post this? <img src=x onerror=alert(1)>"
PASSAGES = {p.text: p for p in load_corpus(ROOT / "corpus").passages}


def new_page(browser, viewport=DESKTOP, **context):
    """A page in a fresh browser profile (empty localStorage) that records dialogs and errors."""
    page = browser.new_context(viewport=viewport, **context).new_page()
    page.dialogs, page.errors = [], []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return page


@pytest.fixture
def page(browser):
    page = new_page(browser)
    yield page
    assert page.errors == [], "the page had script errors"
    page.context.close()


def open_chat(page):
    page.get_by_role("button", name="Ask about social media").click()
    return page.get_by_role("textbox", name="Your question")


def ask(page, question):
    """Type a question and wait for the reply to it."""
    replies = page.locator(".ccw-bot")
    before = replies.count()
    page.get_by_role("textbox", name="Your question").fill(question)
    page.keyboard.press("Enter")
    expect(replies.nth(before)).to_be_visible(timeout=REPLY_TIMEOUT)


def watch_typing_indicator(page):
    page.evaluate("""() => {
        const typing = document.querySelector('.ccw-typing');
        window.typingShown = false;
        new MutationObserver(() => { if (!typing.hidden) window.typingShown = true; })
            .observe(typing, {attributes: true});
    }""")


def session_id(page):
    saved = page.evaluate(f"() => localStorage.getItem('council-chat:{WIDGET_SERVER}')")
    return json.loads(saved)["sessionId"]


def events(servers, sender_id, type_name="user"):
    """The conversation's events of a type as the Rasa server keeps them (its tracker.db)."""
    with sqlite3.connect(servers.logs / "tracker.db") as db:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = ? ORDER BY id",
            (sender_id, type_name),
        ).fetchall()
    return [json.loads(data) for (data,) in rows]


def check_quote(figure):
    """A quoted passage: verbatim text of one passage, and a citation line distinct from it."""
    text = figure.locator("blockquote p").first.text_content()
    passage = PASSAGES[text]
    doc = passage.document
    expect(figure.locator("figcaption")).to_have_text(
        f"{doc.council.name} · {doc.title} · {passage.section_path}"
    )
    quote_size, quote_font = figure.locator("blockquote").evaluate(
        "e => [parseFloat(getComputedStyle(e).fontSize), getComputedStyle(e).fontFamily]"
    )
    cite_size, cite_font = figure.locator("figcaption").evaluate(
        "e => [parseFloat(getComputedStyle(e).fontSize), getComputedStyle(e).fontFamily]"
    )
    assert cite_size < quote_size and cite_font != quote_font
    return passage


def test_keyboard_question_gets_a_cited_quote_and_a_reload_keeps_the_conversation(page, servers):
    page.goto(PAGE)
    page.keyboard.press("Tab")
    launcher = page.get_by_role("button", name="Ask about social media")
    expect(launcher).to_be_focused()
    page.keyboard.press("Enter")
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("region", name="Social media guidance")).to_be_visible()
    expect(page.get_by_role("textbox", name="Your question")).to_be_focused()

    watch_typing_indicator(page)
    page.keyboard.type(QUESTION)
    page.keyboard.press("Enter")
    answer = page.locator(".ccw-answer").first
    expect(answer).to_be_visible(timeout=REPLY_TIMEOUT)
    assert page.evaluate("window.typingShown"), "no typing indicator while waiting"
    expect(page.locator(".ccw-typing")).to_be_hidden()
    expect(page.locator(".ccw-user").first).to_have_text("You said: " + QUESTION)

    figures = answer.locator("figure")
    best = check_quote(figures.first)
    assert "predetermination" in (best.text + best.section_path).lower()
    assert 1 <= figures.count() <= 3
    for i in range(1, figures.count()):
        check_quote(figures.nth(i))
    # The plain-text copies of the quotes are not shown as well.
    assert page.locator(".ccw-log").text_content().count(best.text) == 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "desktop.png")

    # The answer's buttons, by keyboard: back from the question box to "Full section".
    replies = page.get_by_role("group", name="Suggested replies")
    expect(replies.get_by_role("button")).to_have_text(
        ["Full section", "Other councils", "Helpful", "Not helpful"]
    )
    full_section = replies.get_by_role("button", name="Full section")
    for _ in range(6):
        page.keyboard.press("Shift+Tab")
        if full_section.evaluate("button => button === document.activeElement"):
            break
    page.keyboard.press("Enter")
    expect(page.locator(".ccw-user").nth(1)).to_have_text("You said: Full section")
    section = page.locator(".ccw-full-section")
    expect(section).to_be_visible(timeout=REPLY_TIMEOUT)
    expect(replies).to_have_count(0)  # used up
    passages = [PASSAGES[text] for text in section.locator("blockquote p").all_text_contents()]
    assert best in passages and {p.heading for p in passages} == {best.heading}
    heading = SECTION_SEPARATOR.join(best.heading)
    expect(section.locator("figcaption")).to_have_text(
        f"{best.document.council.name} · {best.document.title} · {heading}"
    )
    # Each passage once in the section, and the best once in the answer before it: no plain copies.
    assert page.locator(".ccw-log").text_content().count(best.text) == 2
    page.screenshot(path=SCREENSHOTS / "desktop-full-section.png")

    # A question containing markup is shown as the text it is, and runs nothing.
    ask(page, INJECTION)
    expect(page.locator(".ccw-user").nth(2)).to_have_text("You said: " + INJECTION)
    assert page.locator(".ccw img").count() == 0
    assert page.dialogs == []

    log_before = page.locator(".ccw-log").inner_text()
    session = session_id(page)
    page.reload()
    expect(page.get_by_role("region", name="Social media guidance")).to_be_visible()
    expect(page.locator(".ccw-log")).to_have_text(log_before, use_inner_text=True)
    check_quote(page.locator(".ccw-answer figure").first)
    expect(page.locator(".ccw-user").nth(2)).to_have_text("You said: " + INJECTION)
    assert page.locator(".ccw img").count() == 0

    # The conversation carries on in the same Rasa session.
    ask(page, "thanks")
    assert session_id(page) == session
    assert [e["text"] for e in events(servers, session)] == [QUESTION, "/full_section", INJECTION, "thanks"]
    assert page.dialogs == []

    page.keyboard.press("Escape")
    expect(page.get_by_role("region", name="Social media guidance")).to_be_hidden()
    expect(page.get_by_role("button", name="Ask about social media")).to_be_focused()


def test_phone_width_chat_fills_the_screen(browser):
    page = new_page(browser, viewport=PHONE)
    page.goto(PAGE)
    open_chat(page)
    ask(page, "Can I post photos from a council meeting on Instagram?")
    panel = page.get_by_role("region", name="Social media guidance")
    box = panel.bounding_box()
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, PHONE["width"], PHONE["height"])
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    expect(page.get_by_role("button", name="Close the chat")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "phone.png")
    page.get_by_role("button", name="Close the chat").click()
    expect(panel).to_be_hidden()
    expect(page.get_by_role("button", name="Ask about social media")).to_be_focused()
    assert page.errors == []
    page.context.close()


def test_preselected_council_goes_to_the_bot_as_message_metadata(page, servers):
    # A members' page of its own at the allowed origin, with the embed snippet of docs/channels.md.
    page.goto(f"{ADDRESSES.web_url}/members/coventry.html")  # not found: any page of the origin will do
    page.set_content(
        "<!DOCTYPE html><title>Members</title><h1>Members</h1>"
        f'<script src="/widget.js" data-server="{WIDGET_SERVER}" data-council="coventry" defer></script>'
    )
    open_chat(page)
    ask(page, QUESTION)
    expect(page.locator(".ccw-answer")).to_be_visible()
    [said] = events(servers, session_id(page))
    assert said["text"] == QUESTION and said["metadata"]["council"] == "coventry"
    # The bot took the member's council from the metadata, without asking.
    slots = [(e["name"], e["value"]) for e in events(servers, session_id(page), "slot")]
    assert ("council", "coventry") in slots


def test_pages_of_other_origins_cannot_reach_the_assistant(page):
    # The same demo page from an origin not in CORS_ORIGINS: the browser opens it, the server
    # refuses the chat.
    page.goto(f"{OTHER_ORIGIN}/")
    open_chat(page)
    expect(page.locator(".ccw-status")).to_have_text(
        "Cannot reach the assistant. Trying again…", timeout=20_000
    )


def socketio_connect(origin):
    """Connect to socket.io over HTTP long-polling as a web page of `origin` would: the CORS
    headers of the handshake, and the server's answer to the connect packet."""
    url = f"{RASA}/socket.io/?EIO=4&transport=polling"
    headers = {"Origin": origin}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
        cors = response.headers.get_all("Access-Control-Allow-Origin") or []
        sid = json.loads(response.read().decode()[1:])["sid"]
    url += f"&sid={sid}"
    urllib.request.urlopen(urllib.request.Request(url, data=b"40", headers=headers), timeout=10).close()
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
        return cors, response.read().decode()


def test_socketio_accepts_only_the_configured_origins(servers):
    cors, reply = socketio_connect(ADDRESSES.web_url)
    assert cors == [ADDRESSES.web_url] and reply.startswith("40{")
    cors, reply = socketio_connect("http://evil.example")
    assert cors == [] and reply.startswith("44{") and "may not use the chat" in reply


def test_malformed_socket_messages_are_ignored_and_the_chat_goes_on(page, servers):
    page.goto(PAGE)
    open_chat(page)
    page.evaluate(
        """server => new Promise(resolve => {
        const socket = io(server);
        socket.on('connect', () => {
            socket.emit('session_request', 'not an object');
            socket.emit('session_request', {session_id: 'someone-elses-conversation'});
            socket.emit('user_uttered', 'not an object');
            socket.emit('user_uttered', {message: 42, session_id: '0123456789abcdef0123456789abcdef'});
            socket.emit('user_uttered', {message: 'hello'});
            socket.emit('user_uttered', {message: 'hello', session_id: '0123456789abcdef0123456789abcdef',
                                         metadata: 'not an object'});
            setTimeout(resolve, 1000);
        });
    })""",
        WIDGET_SERVER,
    )
    ask(page, "hello")
    assert "social media" in page.locator(".ccw-bot").last.text_content()
    log = (servers.logs / "rasa.log").read_text()
    assert log.count("web chat: message ignored") == 4
    assert "web chat: session id 'someone-elses-conversation' refused" in log


def test_a_quiz_in_the_widget_from_the_help_button_with_the_settling_passage_quoted(page, servers):
    from bot import quiz

    content = quiz.load_for(load_corpus(ROOT / "corpus").passages, ROOT / "corpus")
    page.goto(PAGE)
    open_chat(page)
    ask(page, "what can I ask?")
    page.get_by_role("button", name="Quiz me").click()
    options = page.locator(".ccw-reply")
    expect(options).to_have_count(3, timeout=REPLY_TIMEOUT)
    question = page.locator(".ccw-bot", has_text="Question 1 of 5:").text_content()
    scenario = next(s for s in content.scenarios if s.question in question)
    expect(options).to_have_text([f"{letter}. {option}" for letter, option in zip("ABC", scenario.options)])
    options.nth(scenario.right).click()
    expect(page.locator(".ccw-user").last).to_have_text(
        f"You said: {'ABC'[scenario.right]}. {scenario.answer}"
    )
    expect(page.locator(".ccw-bot", has_text="Right. The guidance says:")).to_be_visible(
        timeout=REPLY_TIMEOUT
    )
    figure = page.locator(".ccw-answer .ccw-quote").last
    assert check_quote(figure) == scenario.passages[-1]
    assert page.locator(".ccw-bot", has_text=f"“{scenario.passages[0].text}”\n—").count() == 0, (
        "the quote is shown once"
    )
    expect(page.locator(".ccw-bot", has_text="Question 2 of 5:")).to_be_visible()
    page.get_by_role("textbox", name="Your question").fill("stop quiz")
    page.keyboard.press("Enter")
    expect(
        page.locator(".ccw-bot", has_text="Quiz stopped. You answered 1 of 5 questions and got 1 right.")
    ).to_be_visible(timeout=REPLY_TIMEOUT)
