"""Training sessions in the page server's memory (pages/sessions.py) and their handout
(pages/handout.py), without any server."""

import dataclasses
import html
import re
from pathlib import Path

import pytest

from bot import quiz
from bot.answer import cite, passage_payload
from bot.config import settings
from bot.corpus import load_corpus
from pages import handout
from pages.sessions import CODE_ALPHABET, CODE_LENGTH, SessionProblem, Sessions

ROOT = Path(__file__).resolve().parent.parent
PASSAGES = load_corpus(ROOT / "corpus").passages
CONTENT = quiz.load_for(PASSAGES, ROOT / "corpus")
HTML_QUESTION = "Can I post this? <img src=x onerror=alert(1)> *bold* [link](http://x)"


def sessions(**limits) -> Sessions:
    return Sessions(dataclasses.replace(settings(), **limits), CONTENT)


def answer_replies(passage):
    return [{"text": "..."}, {"custom": {"type": "answer", "quotes": [passage_payload(passage)]}}]


def test_codes_are_short_and_unknown_or_ended_codes_say_so():
    registry = sessions()
    session = registry.start()
    assert re.fullmatch(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}", session.code)
    assert registry.find(session.code.lower()) is session
    with pytest.raises(SessionProblem) as unknown:
        registry.find("ZZZZZZ")
    assert unknown.value.status == 404 and "no training session with the code ZZZZZZ" in unknown.value.message
    registry.end(session)
    with pytest.raises(SessionProblem) as ended:
        registry.find(session.code)
    assert ended.value.status == 410 and "has ended" in ended.value.message
    with pytest.raises(SessionProblem) as weird:
        registry.find("<script>")
    assert "<script>" not in weird.value.message


def test_a_session_holds_a_bounded_number_of_people_and_questions():
    registry = sessions(
        max_attendees=2, max_attendee_questions=2, max_session_questions=3, max_training_sessions=1
    )
    session = registry.start()
    with pytest.raises(SessionProblem) as full:
        registry.start()
    assert full.value.status == 429
    first, second = session.join(), session.join()
    with pytest.raises(SessionProblem) as crowded:
        session.join()
    assert crowded.value.status == 429 and "at most 2 people" in crowded.value.message
    assert first.token != second.token and len(first.token) == 32
    with pytest.raises(SessionProblem):
        session.attendee("not-a-token")
    for _ in range(2):
        session.may_ask(first)
        first.asked += 1
        session.add_question("q", "room", answer_replies(PASSAGES[0]), 0.0)
    with pytest.raises(SessionProblem) as each:
        session.may_ask(first)
    assert "2 questions" in each.value.message
    second.waiting = True
    with pytest.raises(SessionProblem) as waiting:
        session.may_ask(second)
    assert "wait for the answer" in waiting.value.message
    second.waiting = False
    session.add_question("q", "room", answer_replies(PASSAGES[0]), 0.0)
    with pytest.raises(SessionProblem) as total:
        session.may_ask(second)
    assert "3 questions" in total.value.message


def test_a_room_quiz_round_counts_votes_and_tells_the_answer_only_when_revealed():
    session = sessions().start()
    people = [session.join() for _ in range(3)]
    presenter = session.listen()
    presenter.presenter = True
    phone = session.listen()
    current = session.next_round()
    scenario = current.scenario
    wrong = (scenario.right + 1) % 3
    session.vote(people[0], scenario.id, scenario.right)
    session.vote(people[1], scenario.id, wrong)
    session.vote(people[1], scenario.id, scenario.right)  # a change of mind counts once
    session.vote(people[2], scenario.id, wrong)
    with pytest.raises(SessionProblem):
        session.vote(people[2], "another-scenario", 0)
    with pytest.raises(SessionProblem):
        session.next_round()
    tally = current.tally()
    assert [row["votes"] for row in tally][scenario.right] == 2 and sum(r["votes"] for r in tally) == 3
    assert all("right" not in row for row in tally)
    revealed = session.reveal().reveal()
    assert revealed["right"] == scenario.right
    assert [q["text"] for q in revealed["quotes"]] == [p.text for p in scenario.passages]
    with pytest.raises(SessionProblem):
        session.vote(people[0], scenario.id, 0)
    phone_events = [phone.get_nowait()["type"] for _ in range(phone.qsize())]
    presenter_events = [presenter.get_nowait()["type"] for _ in range(presenter.qsize())]
    assert phone_events == ["round", "reveal"], "phones never see the tally or the right answer early"
    assert presenter_events == ["round", "tally", "tally", "tally", "tally", "reveal"]


def test_the_handout_lists_questions_with_quotes_and_quiz_totals_escaped():
    registry = sessions()
    session = registry.start()
    people = [session.join() for _ in range(2)]
    session.add_question(HTML_QUESTION, "room", answer_replies(PASSAGES[20]), 0.0)
    session.add_question(
        "Where can I park?",
        "room",
        [{"custom": {"type": "not_covered", "contacts": "the Monitoring Officer"}}],
        0.0,
    )
    current = session.next_round()
    session.vote(people[0], current.scenario.id, current.scenario.right)
    session.vote(people[1], current.scenario.id, (current.scenario.right + 1) % 3)
    session.reveal()
    registry.end(session)

    page = handout.page(session, "/handout/x.md")
    assert "<img" not in page and html.escape(HTML_QUESTION) in page
    assert html.escape(f"“{PASSAGES[20].text}”") in page and html.escape(cite(PASSAGES[20])) in page
    assert "The guidance does not cover this. Ask the Monitoring Officer." in page
    assert "1 questions; 2 answers, of which 1 right." in page
    assert all(person.token not in page for person in people)
    assert "@page { size: A4" in page

    markdown = handout.markdown(session)
    assert r"\<img src=x onerror=alert(1)\>" in markdown and " <img" not in markdown
    assert r"\*bold\* \[link\](http://x)" in markdown
    assert cite(PASSAGES[20]) in markdown.replace("\\", "")
    assert "2 answers, of which 1 right" in markdown
