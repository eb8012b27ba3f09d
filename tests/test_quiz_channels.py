"""The quiz through the running servers: over REST, and in Teams through the fake Bot Framework
(options as card buttons, answered by clicking one)."""

import json
import uuid
from pathlib import Path

from test_teams import ask as ask_teams
from test_teams import card_of

from bot import quiz
from bot.answer import cite
from bot.corpus import load_corpus
from channels.cards import markdown_text
from rest_client import WEBHOOK, payloads, request, say, texts

ROOT = Path(__file__).resolve().parent.parent
CONTENT = quiz.load_for(load_corpus(ROOT / "corpus").passages, ROOT / "corpus")


def asked(replies):
    """The scenario the reply asks, and its buttons."""
    [question] = [p for p in payloads(replies) if p["type"] == "quiz_question"]
    [with_buttons] = [r for r in replies if r.get("buttons") and "Question" in r.get("text", "")]
    return CONTENT.by_id(question["scenario"]), question, with_buttons["buttons"]


def test_a_whole_quiz_over_rest_quotes_the_guidance_after_every_answer(servers):
    sender = f"quiz-{uuid.uuid4().hex}"
    help_reply = say(sender, "what can I ask?")
    assert {"title": "Quiz me", "payload": "/quiz_start"} in [
        b for r in help_reply for b in r.get("buttons", [])
    ]

    replies = say(sender, "/quiz_start")
    scenario, question, buttons = asked(replies)
    assert "stop quiz" in texts(replies)[0]
    length = question["of"]
    assert question["number"] == 1 and length == 5
    assert [b["title"] for b in buttons] == [
        f"{letter}. {option}" for letter, option in zip("ABC", scenario.options)
    ]
    missed = None
    for number in range(1, length + 1):
        chosen = scenario.right if number != 2 else (scenario.right + 1) % 3
        if number == 2:
            missed = scenario
        replies = say(sender, buttons[chosen]["payload"])
        said = texts(replies)
        assert said[0].startswith(
            "Right." if number != 2 else f"Not quite: the answer is {'ABC'[scenario.right]}."
        )
        for passage in scenario.passages:
            assert f"“{passage.text}”\n— {cite(passage)}" in said
        [feedback] = [p for p in payloads(replies) if p["type"] == "quiz_feedback"]
        assert feedback["right"] == (number != 2)
        if number < length:
            scenario, question, buttons = asked(replies)
            assert question["number"] == number + 1
    [result] = [p for p in payloads(replies) if p["type"] == "quiz_result"]
    assert (result["score"], result["of"]) == (length - 1, length)
    assert result["read_again"] == [cite(p) for p in missed.passages]
    assert f"You scored {length - 1} out of {length}." in texts(replies)[-1]
    assert "no quiz running" in texts(say(sender, "stop quiz"))[0]


def test_stop_quiz_leaves_with_the_score_so_far_and_questions_go_on_being_answered(servers):
    sender = f"quiz-{uuid.uuid4().hex}"
    scenario, _, buttons = asked(say(sender, "quiz me"))
    say(sender, buttons[scenario.right]["payload"])
    stopped = say(sender, "stop quiz")
    assert "Quiz stopped. You answered 1 of 5 questions and got 1 right." in texts(stopped)[0]
    answer = say(sender, "Can I tweet my view on a planning application before the committee decides?")
    assert [p["type"] for p in payloads(answer)] == ["answer"]
    late = say(sender, buttons[0]["payload"])
    assert texts(late)[0] == quiz.NO_QUIZ


def test_a_known_councils_scenarios_come_first(servers):
    sender = f"quiz-{uuid.uuid4().hex}"
    body = {"sender": sender, "message": "quiz me", "metadata": {"council": "broxtowe"}}
    status, text = request(WEBHOOK, json.dumps(body).encode())
    assert status == 200
    scenario, _, _ = asked(json.loads(text))
    assert scenario.council == "broxtowe"


def test_a_quiz_in_teams_shows_options_as_card_buttons_and_answers_a_click(servers, fake_botframework):
    conversation = f"a:1quiz-{uuid.uuid4().hex[:8]}"
    card = card_of(ask_teams(fake_botframework, conversation, "quiz me"))
    question = next(b["text"] for b in card["body"] if b["text"].startswith("Question 1 of 5"))
    assert question == markdown_text("Question 1 of 5")
    actions = card["actions"]
    assert [a["title"] for a in actions] == ["A", "B", "C"]
    payload = actions[0]["data"]["payload"]
    scenario = CONTENT.by_id(quiz.parse_choice(payload)[0])
    shown = [b["text"] for b in card["body"]]
    for letter, option in zip("ABC", scenario.options):
        assert markdown_text(f"{letter}. {option}") in shown

    right = actions[scenario.right]["data"]
    assert right["msteams"] == {
        "type": "messageBack",
        "text": right["payload"],
        "displayText": f"{'ABC'[scenario.right]}. {scenario.answer}",
    }
    reply = card_of(ask_teams(fake_botframework, conversation, right["msteams"]["text"], value=right))
    blocks = reply["body"]
    assert blocks[0]["text"] == markdown_text("Right. The guidance says:")
    quote = next(b for b in blocks if b.get("id") == "quote-1")
    assert quote["text"] == markdown_text(f"“{scenario.passages[0].text}”")
    assert blocks[blocks.index(quote) + 1]["text"] == markdown_text(f"— {cite(scenario.passages[0])}")
    assert any(b["text"] == markdown_text("Question 2 of 5") for b in blocks)
    assert [a["title"] for a in reply["actions"]] == ["A", "B", "C"]
