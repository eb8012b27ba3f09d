"""action_answer_question, run as the action server runs it, with rasa-sdk's dispatcher."""

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import ActionAnswerQuestion, searcher


def run_action(text):
    tracker = Tracker(
        sender_id="test",
        slots={},
        latest_message={"text": text, "intent": {"name": "ask_guidance", "confidence": 0.9}},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )
    dispatcher = CollectingDispatcher()
    events = ActionAnswerQuestion().run(dispatcher, tracker, {})
    texts = [m["text"] for m in dispatcher.messages if m.get("text")]
    payloads = [m["custom"] for m in dispatcher.messages if m.get("custom")]
    assert len(payloads) == 1, "one structured payload per reply"
    return texts, payloads[0], events


def test_first_message_quotes_the_best_passage_with_its_citation():
    texts, payload, events = run_action(
        "Can I tweet my view on a planning application before the committee decides?"
    )
    best = payload["quotes"][0]
    passage = searcher().index.by_id(best["passage_id"])
    assert texts[0] == f"“{passage.text}”\n— {best['citation']}"
    assert best["citation"] == (
        f"{passage.document.council.name}, {passage.document.title} "
        f"({passage.document.year}), {passage.section_path}"
    )
    assert "predetermination" in (passage.text + passage.section_path).lower()
    assert events == []


def test_other_councils_follow_each_cited_and_distinct():
    texts, payload, _ = run_action("Is it OK to post on social media after I have been drinking?")
    assert 2 <= len(texts) <= 3
    quotes = payload["quotes"]
    assert len(quotes) == len(texts)
    assert len({q["council"] for q in quotes}) == len(quotes)
    for text, q in zip(texts[1:], quotes[1:]):
        assert text == f"{q['council']} also says:\n“{q['text']}”\n— {q['citation']}"


def test_uncovered_question_gets_no_quote_and_says_who_to_ask():
    texts, payload, _ = run_action("What is the capital of Australia?")
    assert len(texts) == 1
    assert "“" not in texts[0]
    assert "does not cover" in texts[0]
    assert "Monitoring Officer" in texts[0]
    assert payload["type"] == "not_covered"


def test_empty_message_is_not_covered_rather_than_an_error():
    texts, payload, _ = run_action("")
    assert payload["type"] == "not_covered" and texts
