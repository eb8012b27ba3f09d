"""A whole training session in real browsers (Debian's Chromium through Playwright) against the
real servers: a presenter screen at 1280x720 and two attendees' phones join the same session by
its code; an attendee's question reaches the presenter's queue and its cited answer the phone;
the presenter shows it, follows up by keyboard and asks its own question; a quiz round for the
room shows the tally and then the quoted passage; the handout lists the questions with their
citations. Screenshots go to var/screenshots/."""

import json
import re
from pathlib import Path

from playwright.sync_api import expect
from test_widget import PASSAGES, PHONE, REPLY_TIMEOUT, SCREENSHOTS, new_page

from bot import quiz
from bot.answer import cite
from bot.config import server_addresses
from bot.corpus import load_corpus

ROOT = Path(__file__).resolve().parent.parent
PAGES = server_addresses().web_url
PROJECTOR = {"width": 1280, "height": 720}
QUESTION = "Can I tweet my view on a planning application before the committee decides?"
INJECTION = "Is it ok to share this? <img src=x onerror=alert(1)><b>bold</b>"
TRAINER_QUESTION = "Is it OK to post on Facebook after a few drinks?"
CONTENT = quiz.load_for(load_corpus(ROOT / "corpus").passages, ROOT / "corpus")


def open_page(browser, url, viewport, **context):
    page = new_page(browser, viewport, **context)
    page.goto(url)
    return page


def luminance(rgb):
    def channel(c):
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(int(x)) for x in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(page, selector):
    """The contrast ratio of an element's text with the background it sits on."""
    colours = page.eval_on_selector(
        selector,
        """node => {
            const color = getComputedStyle(node).color;
            let n = node, background = 'rgba(0, 0, 0, 0)';
            while (n && (background === 'rgba(0, 0, 0, 0)' || background === 'transparent')) {
                background = getComputedStyle(n).backgroundColor; n = n.parentElement;
            }
            return [color, background];
        }""",
    )
    fg, bg = (re.findall(r"\d+", c)[:3] for c in colours)
    light, dark = sorted([luminance(fg), luminance(bg)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


def font_px(page, selector):
    return float(page.eval_on_selector(selector, "n => parseFloat(getComputedStyle(n).fontSize)"))


def ask_on_phone(phone, text):
    phone.fill("#question", text)
    phone.press("#question", "Enter")


def test_a_training_session_from_join_to_handout(browser):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    presenter = open_page(browser, f"{PAGES}/present", PROJECTOR)
    expect(presenter.locator("#code")).to_have_text(re.compile(r"^[A-Z0-9]{6}$"), timeout=REPLY_TIMEOUT)
    code = presenter.locator("#code").text_content()
    assert presenter.locator("#join-url").text_content().endswith(f"/join/{code}")

    phones = [
        open_page(browser, f"{PAGES}/join/{code}", PHONE, is_mobile=True, has_touch=True) for _ in range(2)
    ]
    expect(presenter.locator("#attendees")).to_have_text("2 people have joined", timeout=REPLY_TIMEOUT)
    for phone in phones:
        expect(phone.locator("#code")).to_have_text(code)

    # An attendee asks: the cited answer on the phone, the question in the presenter's queue.
    ask_on_phone(phones[0], QUESTION)
    quote = phones[0].locator(".answer .passage p").first
    expect(quote).to_be_visible(timeout=REPLY_TIMEOUT)
    passage = PASSAGES[quote.text_content()[1:-1]]
    expect(phones[0].locator(".answer .citation").first).to_have_text(f"— {cite(passage)}")
    assert phones[0].evaluate("document.documentElement.scrollWidth") <= PHONE["width"], (
        "no sideways scrolling"
    )
    ask_on_phone(phones[1], INJECTION)
    expect(phones[1].locator(".asked")).to_have_text(INJECTION, timeout=REPLY_TIMEOUT)
    expect(phones[1].locator(".answer").first).not_to_contain_text("Looking", timeout=REPLY_TIMEOUT)
    assert phones[1].locator("main img, main b").count() == 0 and phones[1].dialogs == []

    queue = presenter.locator("#queue button")
    expect(queue).to_have_count(2, timeout=REPLY_TIMEOUT)
    expect(queue.nth(0)).to_have_text(QUESTION)
    expect(queue.nth(1)).to_have_text(INJECTION)
    phones[0].screenshot(path=str(SCREENSHOTS / "attendee-phone.png"))

    # The trainer shows it: one answer, large and legible, follow-ups one key away.
    queue.nth(0).click()
    stage = presenter.locator("#stage")
    expect(stage.locator(".question")).to_have_text(QUESTION)
    expect(stage.locator(".passage p")).to_have_text(f"“{passage.text}”")
    expect(stage.locator(".citation")).to_have_text(f"— {cite(passage)}")
    assert font_px(presenter, "#stage .passage") >= 28 and font_px(presenter, "#stage .citation") >= 20
    assert contrast(presenter, "#stage .passage p") >= 4.5 and contrast(presenter, "#stage .citation") >= 4.5
    assert contrast(presenter, "#stage .from") >= 4.5 and contrast(presenter, ".code") >= 4.5
    presenter.screenshot(path=str(SCREENSHOTS / "presenter-screen.png"))

    stage.focus()
    presenter.keyboard.press("f")
    expect(stage.locator(".from")).to_have_text("Full section")
    expect(stage.locator(".heading")).to_contain_text("The whole of", timeout=REPLY_TIMEOUT)
    expect(stage.locator(".passage p").first).to_be_visible()
    presenter.keyboard.press("ArrowLeft")
    expect(stage.locator(".question")).to_have_text(QUESTION)
    presenter.keyboard.press("ArrowRight")
    expect(stage.locator(".from")).to_have_text("Full section")
    expect(presenter.locator("#history button")).to_have_count(2)

    # The trainer types a question of their own.
    presenter.keyboard.press("/")
    presenter.keyboard.type(TRAINER_QUESTION)
    presenter.keyboard.press("Enter")
    expect(stage.locator(".question")).to_have_text(TRAINER_QUESTION)
    expect(stage.locator(".passage p")).to_be_visible(timeout=REPLY_TIMEOUT)
    own = PASSAGES[stage.locator(".passage p").text_content()[1:-1]]
    stage.focus()
    presenter.keyboard.press("o")
    expect(stage.locator(".from")).to_have_text("Other councils")
    expect(stage.locator(".heading").first).to_be_visible(timeout=REPLY_TIMEOUT)

    # A quiz question for the room: answers on the phones, the tally, then the passage.
    presenter.click("#quiz-next")
    expect(stage.locator(".from")).to_have_text("Quiz for the room · question 1", timeout=REPLY_TIMEOUT)
    for phone in phones:
        expect(phone.locator(".option-button")).to_have_count(3, timeout=REPLY_TIMEOUT)
    scenario = next(
        s for s in CONTENT.scenarios if s.question == phones[0].locator(".scenario").text_content()
    )
    phones[0].locator(".option-button").nth(scenario.right).click()
    phones[1].locator(".option-button").nth((scenario.right + 1) % 3).click()
    expect(phones[0].locator("#chosen")).to_contain_text(f"You chose {'ABC'[scenario.right]}")
    expect(stage.locator(".tally")).to_have_text("2 answers", timeout=REPLY_TIMEOUT)
    expect(stage.locator(".votes")).to_have_text(
        ["1" if i in (scenario.right, (scenario.right + 1) % 3) else "0" for i in range(3)]
    )
    assert stage.locator(".option.right").count() == 0, "the right answer is not shown before the reveal"
    presenter.click("#reveal")
    expect(stage.locator(".option.right")).to_have_count(1)
    expect(stage.locator(".option.right .option-text")).to_contain_text(scenario.answer)
    expect(stage.locator(".passage p").first).to_have_text(f"“{scenario.passages[0].text}”")
    expect(stage.locator(".citation").first).to_have_text(f"— {cite(scenario.passages[0])}")
    expect(phones[0].locator("#chosen")).to_have_text(
        f"Right! {'ABC'[scenario.right]}. {scenario.answer}.", timeout=REPLY_TIMEOUT
    )
    expect(phones[1].locator("#chosen")).to_contain_text("Not this time")
    expect(phones[1].locator(".room-quiz .passage p").first).to_have_text(f"“{scenario.passages[0].text}”")

    # The trainer ends the session: the phones are told, and the handout lists everything.
    presenter.click("#end")
    presenter.click("#end-yes")
    handout_link = presenter.locator("#handout-link")
    expect(handout_link).to_be_visible(timeout=REPLY_TIMEOUT)
    for phone in phones:
        expect(phone.locator("#notice")).to_contain_text("has ended", timeout=REPLY_TIMEOUT)
        expect(phone.locator("#question")).to_be_disabled()
    handout = presenter.context.new_page()
    handout.goto(PAGES + handout_link.get_attribute("href"))
    items = handout.locator(".item .question")
    expect(items.nth(0)).to_have_text(f"1. {QUESTION}")
    expect(items.nth(1)).to_have_text(f"2. {INJECTION}")
    expect(items.nth(2)).to_have_text(f"3. {TRAINER_QUESTION}")
    citations = handout.locator(".citation").all_text_contents()
    assert f"— {cite(passage)}" in citations and f"— {cite(own)}" in citations
    assert f"— {cite(scenario.passages[0])}" in citations
    expect(handout.locator("main")).to_contain_text("1 questions; 2 answers, of which 1 right.")
    assert handout.locator("main img, main b").count() == 0
    handout.emulate_media(media="print")
    expect(handout.locator(".actions")).to_be_hidden()
    handout.pdf(path=str(SCREENSHOTS / "handout.pdf"), format="A4")
    markdown = handout.request.get(PAGES + presenter.locator("#markdown-link").get_attribute("href"))
    assert markdown.ok and markdown.headers["content-type"].startswith("text/markdown")
    assert QUESTION in markdown.text() and r"\<img src=x onerror=alert(1)\>" in markdown.text()

    # Its code now leads to a clear message.
    phones[0].goto(f"{PAGES}/join/{code}")
    expect(phones[0].locator(".notice")).to_have_text(
        f"The training session {code} has ended. Thank you for taking part."
    )
    for page in [presenter, *phones]:
        assert page.errors == [], "the page had script errors"


def test_the_trainers_own_quiz_on_the_presenter_screen_from_the_help_reply(browser):
    presenter = open_page(browser, f"{PAGES}/present", PROJECTOR)
    expect(presenter.locator("#code")).to_have_text(re.compile(r"^[A-Z0-9]{6}$"), timeout=REPLY_TIMEOUT)
    stage = presenter.locator("#stage")
    presenter.fill("#question", "what can I ask?")
    presenter.press("#question", "Enter")
    stage.get_by_role("button", name="Quiz me").click(timeout=REPLY_TIMEOUT)

    expect(stage.locator(".heading")).to_have_text("Question 1 of 5", timeout=REPLY_TIMEOUT)
    scenario = next(
        s for s in CONTENT.scenarios if s.question == stage.locator(".text").nth(1).text_content()
    )
    options = stage.locator(".options button")
    expect(options).to_have_text([f"{letter}. {option}" for letter, option in zip("ABC", scenario.options)])
    options.nth(scenario.right).click()
    expect(stage.locator(".question")).to_have_text(f"{'ABC'[scenario.right]}. {scenario.answer}")
    expect(stage.locator(".text").first).to_have_text("Right. The guidance says:", timeout=REPLY_TIMEOUT)
    expect(stage.locator(".passage p")).to_have_text([f"“{p.text}”" for p in scenario.passages])
    expect(stage.locator(".citation")).to_have_text([f"— {cite(p)}" for p in scenario.passages])
    start = scenario.passages[0].text.split("\n")[0][:40]
    assert stage.locator(".text").filter(has_text=start).count() == 0, "the quote is shown once"
    assert font_px(presenter, "#stage .passage") >= 28 and font_px(presenter, "#stage .citation") >= 20
    expect(stage.locator(".heading")).to_have_text("Question 2 of 5")

    presenter.fill("#question", "stop quiz")
    presenter.press("#question", "Enter")
    expect(stage.locator(".text").first).to_have_text(
        "Quiz stopped. You answered 1 of 5 questions and got 1 right.", timeout=REPLY_TIMEOUT
    )
    expect(stage.get_by_role("button", name="Another quiz")).to_be_visible()

    # The trainer's quiz is not among the session's questions for the handout.
    session = json.loads(presenter.evaluate("sessionStorage.getItem('training-session')"))
    state = presenter.request.get(
        f"{PAGES}/api/sessions/{session['code']}", headers={"X-Session-Key": session["key"]}
    ).json()
    assert state["questions"] == []
    assert presenter.errors == [], "the page had script errors"
