"""Every custom action, run as the action server runs it, with rasa-sdk's dispatcher."""

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.actions as actions
from bot.config import PROJECT_ROOT
from bot.feedback import FeedbackStore

PLANNING = "Can I tweet my view on a planning application before the committee decides?"


@pytest.fixture(autouse=True)
def store(tmp_path, monkeypatch):
    store = FeedbackStore(tmp_path / "feedback.db")
    monkeypatch.setattr(actions, "feedback", lambda: store)
    return store


def tracker(text="", intent="ask_guidance", slots=None, metadata=None, entities=None, confidence=0.9):
    return Tracker(
        sender_id="conversation-1",
        slots=slots or {},
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "entities": entities or [],
            "metadata": metadata or {},
        },
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def run(action, *args, **kwargs):
    dispatcher = CollectingDispatcher()
    events = action().run(dispatcher, tracker(*args, **kwargs), {})
    texts = [m["text"] for m in dispatcher.messages if m.get("text")]
    payloads = [m["custom"] for m in dispatcher.messages if m.get("custom")]
    buttons = [b["title"] for m in dispatcher.messages for b in m.get("buttons") or []]
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    return texts, payloads, buttons, slots


def passage(passage_id):
    return actions.searcher().index.by_id(passage_id)


# --------------------------------------------------------------------------- answer


def test_answer_quotes_the_best_passage_first_with_its_citation_and_buttons():
    texts, payloads, buttons, slots = run(actions.ActionAnswerQuestion, PLANNING)
    best = payloads[0]["quotes"][0]
    shown = passage(best["passage_id"])
    assert texts[0] == f"“{shown.text}”\n— {best['citation']}"
    assert best["citation"] == (
        f"{shown.document.council.name}, {shown.document.title} ({shown.document.year}), {shown.section_path}"
    )
    assert "predetermination" in (shown.text + shown.section_path).lower()
    assert buttons == ["Full section", "Other councils", "Helpful", "Not helpful"]
    assert slots["last_question"] == PLANNING
    assert slots["last_passages"] == [q["passage_id"] for q in payloads[0]["quotes"]]


def test_answer_adds_other_councils_each_cited_once():
    texts, payloads, _, _ = run(
        actions.ActionAnswerQuestion, "Is it OK to post on social media after drinking?"
    )
    quotes = payloads[0]["quotes"]
    assert 2 <= len(texts) == len(quotes) <= 3
    assert len({q["council"] for q in quotes}) == len(quotes)
    for text, q in zip(texts[1:], quotes[1:]):
        assert text == f"{q['council']} also says:\n“{q['text']}”\n— {q['citation']}"


def test_the_members_council_is_quoted_first():
    for council in ("coventry", "peterborough", "broxtowe"):
        _, payloads, _, _ = run(
            actions.ActionAnswerQuestion, "Can I post after a few drinks?", slots={"council": council}
        )
        assert passage(payloads[0]["quotes"][0]["passage_id"]).document.council.key == council


def test_a_council_sent_as_metadata_is_remembered_and_used():
    _, payloads, _, slots = run(
        actions.ActionAnswerQuestion, "Can I post after a few drinks?", metadata={"council": "Peterborough"}
    )
    assert slots["council"] == "peterborough"
    assert passage(payloads[0]["quotes"][0]["passage_id"]).document.council.key == "peterborough"


def test_uncovered_question_gets_no_quote_says_who_to_ask_and_is_recorded(store):
    texts, payloads, buttons, slots = run(
        actions.ActionAnswerQuestion, "What is the capital of Australia?", slots={"council": "broxtowe"}
    )
    assert len(texts) == 1 and "“" not in texts[0]
    assert "does not cover" in texts[0] and "Broxtowe Borough Council's Monitoring Officer" in texts[0]
    assert payloads[0]["type"] == "not_covered" and buttons == []
    assert slots["last_passages"] == []
    [entry] = store.entries("not_covered")
    assert (entry.conversation_id, entry.question) == ("conversation-1", "What is the capital of Australia?")


def test_empty_message_is_not_covered_rather_than_an_error(store):
    texts, payloads, _, _ = run(actions.ActionAnswerQuestion, "")
    assert payloads[0]["type"] == "not_covered" and texts
    assert store.entries() == []


# --------------------------------------------------------------------------- help


def nlu_examples(intent: str) -> list[str]:
    data = yaml.safe_load((PROJECT_ROOT / "data" / "nlu" / "basics.yml").read_text(encoding="utf-8"))
    block = next(b for b in data["nlu"] if b.get("intent") == intent)
    return [line.strip()[2:] for line in block["examples"].splitlines() if line.strip()]


def test_every_request_for_help_the_nlu_learns_from_gets_the_help_reply():
    examples = nlu_examples("help")
    assert len(examples) >= 10
    for text in examples:
        dispatcher = CollectingDispatcher()
        events = actions.ActionHelp().run(dispatcher, tracker(text, "help"), {})
        assert dispatcher.messages == [dict(dispatcher.messages[0], response="utter_help")], text
        assert events == []


def test_a_request_for_help_that_the_guidance_answers_is_answered_from_it():
    texts, payloads, buttons, slots = run(actions.ActionHelp, "what do you know about libel?", "help")
    assert texts[0].startswith("“") and "untrue statement" in texts[0]
    assert payloads[0]["type"] == "answer" and "Helpful" in buttons and slots["last_passages"]


# --------------------------------------------------------------------------- council


@pytest.mark.parametrize(
    "text, entity, expected",
    [
        ("I'm a Broxtowe councillor", "broxtowe", "broxtowe"),
        ("I'm on Cambs county council", "cambridgeshire", "cambridgeshire"),
        ("I sit on Peterborough City Council", None, "peterborough"),
    ],
)
def test_set_council_remembers_the_council(text, entity, expected):
    entities = [{"entity": "council", "value": entity}] if entity else []
    texts, _, _, slots = run(actions.ActionSetCouncil, text, "set_council", entities=entities)
    assert slots == {"council": expected}
    assert actions.searcher().councils()[expected].name in texts[0]


def test_an_unknown_council_is_asked_about():
    texts, _, _, slots = run(actions.ActionSetCouncil, "I'm on Atlantis council", "set_council")
    assert slots == {} and "Which is your council?" in texts[0]


WHO_FROM = "Who is the Cambridgeshire report from?"
CAMBS = [{"entity": "council", "value": "cambridgeshire"}]


def test_a_question_only_guessed_to_set_the_council_is_answered_from_the_guidance():
    texts, payloads, buttons, slots = run(
        actions.ActionSetCouncil, WHO_FROM, "set_council", entities=CAMBS, confidence=0.62
    )
    shown = passage(payloads[0]["quotes"][0]["passage_id"])
    assert texts[0].startswith(f"“{shown.text}”") and shown.document.council.key == "cambridgeshire"
    assert "Monitoring Officer" in shown.text
    assert "council" not in slots and slots["last_question"] == WHO_FROM
    assert buttons == ["Full section", "Other councils", "Helpful", "Not helpful"]


@pytest.mark.parametrize(
    "text, confidence",
    [
        ("actually I'm from Cambs", 0.62),  # unsure, but the guidance has nothing to quote
        (WHO_FROM, 0.95),  # the NLU is sure
    ],
)
def test_the_council_is_set_when_the_nlu_is_sure_or_the_guidance_does_not_cover_it(text, confidence):
    texts, _, _, slots = run(
        actions.ActionSetCouncil, text, "set_council", entities=CAMBS, confidence=confidence
    )
    assert slots == {"council": "cambridgeshire"} and "Cambridgeshire County Council" in texts[0]


@pytest.mark.parametrize("text", ["what does Broxtowe say?", "And Broxtowe", "what about Broxtowe"])
def test_asking_about_a_council_after_an_answer_quotes_it_on_the_last_question(text):
    slots = answered(PLANNING)
    entities = [{"entity": "council", "value": "broxtowe"}]
    texts, payloads, _, events = run(actions.ActionSetCouncil, text, "set_council", slots, entities=entities)
    assert len(texts) == 1 and texts[0].startswith("Broxtowe Borough Council:\n“")
    assert "predetermination" in texts[0].lower()
    assert [row["council"] for row in payloads[0]["councils"]] == ["Broxtowe Borough Council"]
    assert "council" not in events and events["last_passages"] == [payloads[0]["councils"][0]["passage_id"]]


def test_naming_a_council_after_an_answer_without_asking_sets_it():
    slots = answered(PLANNING)
    entities = [{"entity": "council", "value": "broxtowe"}]
    texts, _, _, events = run(
        actions.ActionSetCouncil, "I'm a Broxtowe councillor", "set_council", slots, entities=entities
    )
    assert events == {"council": "broxtowe"} and texts[0].startswith("Thank you.")


def test_a_question_only_guessed_to_start_a_quiz_is_answered_and_a_quiz_request_starts_one():
    leaflet = "Is there a quick leaflet I can read?"
    texts, _, _, slots = run(actions.ActionQuizStart, leaflet, "quiz_start", confidence=0.58)
    assert "leaflet" in texts[0].lower() and texts[0].startswith("“") and "quiz" not in slots
    asked = "can we do the quiz thing"
    texts, _, _, slots = run(actions.ActionQuizStart, asked, "quiz_start", confidence=0.6)
    assert texts[0].startswith("Here is a short quiz") and slots["quiz"]


# --------------------------------------------------------------------------- follow-ups


def answered(question=PLANNING, **kwargs):
    _, payloads, _, slots = run(actions.ActionAnswerQuestion, question, **kwargs)
    return {
        "last_question": slots["last_question"],
        "last_passages": slots["last_passages"],
        **kwargs.get("slots", {}),
    }


@pytest.mark.parametrize("text", ["what about on Twitter?", "and if I'm not on the committee?"])
def test_a_message_carrying_on_from_the_last_question_is_answered_with_it(text):
    alone, _, _, _ = run(actions.ActionAnswerQuestion, text)
    assert "predetermination" not in " ".join(alone).lower()
    texts, payloads, buttons, slots = run(actions.ActionAnswerQuestion, text, slots=answered(PLANNING))
    assert "predetermination" in texts[0].lower() and buttons
    assert slots["last_question"] == f"{PLANNING} {text}" == payloads[0]["question"]


def test_a_message_carrying_on_to_something_the_guidance_does_not_answer_is_not_covered(store):
    tax = "what about my council tax?"
    texts, payloads, _, slots = run(actions.ActionAnswerQuestion, tax, slots=answered())
    assert payloads[0]["type"] == "not_covered" and "does not cover" in texts[0]
    assert slots["last_question"] == tax


def test_a_follow_on_that_finds_a_better_passage_on_its_own_is_answered_alone():
    texts, payloads, _, slots = run(actions.ActionAnswerQuestion, "what about libel?", slots=answered())
    assert "libel" in payloads[0]["quotes"][0]["text"].lower() and "predetermination" not in texts[0].lower()
    assert slots["last_question"] == "what about libel?"


def test_full_section_shows_every_passage_of_the_section_in_order():
    slots = answered("What are the legal issues around libel?", slots={"council": "broxtowe"})
    shown = passage(slots["last_passages"][0])
    texts, payloads, _, new_slots = run(
        actions.ActionFullSection, "/full_section", "full_section", slots=slots
    )
    section = [
        p
        for p in actions.searcher().index.passages
        if p.document.id == shown.document.id and p.heading == shown.heading
    ]
    assert len(section) > 1 and [p["passage_id"] for p in payloads[0]["passages"]] == [p.id for p in section]
    for p in section:
        assert f"“{p.text}”" in texts[0]
    assert texts[0].endswith(f"— {payloads[0]['citation']}")
    assert payloads[0]["section"] == " › ".join(shown.heading) and payloads[0]["citation"].endswith(
        payloads[0]["section"]
    )
    assert new_slots["last_passages"] == [p.id for p in section]


def test_other_councils_quote_each_other_council_or_say_it_is_not_addressed():
    slots = answered()
    first = passage(slots["last_passages"][0]).document.council
    texts, payloads, _, _ = run(actions.ActionOtherCouncils, "/other_councils", "other_councils", slots=slots)
    councils = [row["council"] for row in payloads[0]["councils"]]
    assert first.name not in councils and len(councils) == 3
    for text, row in zip(texts, payloads[0]["councils"]):
        if row["addressed"]:
            assert text == f"{row['council']}:\n“{row['text']}”\n— {row['citation']}"
        else:
            assert text == f"{row['council']}: the guidance I have from this council does not address this."
    assert any(row["addressed"] for row in payloads[0]["councils"])


def test_a_question_about_one_council_taken_for_a_comparison_is_answered_from_that_council():
    question = "what does Peterborough say about drinking before posting?"
    texts, payloads, _, slots = run(actions.ActionCompareCouncils, question, "compare_councils")
    assert payloads[0]["type"] == "answer"
    assert payloads[0]["quotes"][0]["council"] == "Peterborough City Council"
    assert slots["last_question"] == question


def test_compare_gives_one_passage_per_council_and_says_plainly_which_do_not_address_it():
    texts, payloads, _, slots = run(
        actions.ActionCompareCouncils,
        "how do the councils differ on drinking before posting?",
        "compare_councils",
    )
    rows = payloads[0]["councils"]
    assert len(rows) == len(texts) == 4
    addressed = {r["council"] for r in rows if r["addressed"]}
    assert {"Coventry City Council", "Peterborough City Council", "Broxtowe Borough Council"} <= addressed
    assert (
        "Cambridgeshire County Council: the guidance I have from this council does not address this." in texts
    )
    assert slots["last_question"].startswith("how do the councils differ")


def test_source_names_document_date_status_and_section():
    slots = answered()
    shown = passage(slots["last_passages"][0])
    texts, _, _, _ = run(actions.ActionSource, "where does that come from?", "source", slots=slots)
    for part in (
        shown.document.council.name,
        shown.document.title,
        shown.document.date,
        shown.document.status,
        shown.section_path,
    ):
        assert part in texts[0]


@pytest.mark.parametrize(
    "action", [actions.ActionFullSection, actions.ActionOtherCouncils, actions.ActionSource]
)
def test_follow_ups_before_any_answer_ask_for_a_question(action):
    texts, payloads, _, slots = run(action, "show me more", "full_section")
    assert texts[0].startswith("Ask me a question first") and payloads == [] and slots == {}


@pytest.mark.parametrize(
    "action", [actions.ActionFullSection, actions.ActionOtherCouncils, actions.ActionSource]
)
def test_a_question_taken_for_a_follow_up_before_any_answer_is_answered(action):
    """Nothing quoted yet, so it cannot be a follow-up: the guidance answers it."""
    question = "where does it say I shouldn't post after a drink?"
    texts, payloads, _, slots = run(action, question, "source")
    assert payloads[0]["type"] == "answer"
    assert "alcohol" in payloads[0]["quotes"][0]["text"]
    assert slots["last_question"] == question


def test_feedback_is_recorded_with_question_and_passages(store):
    slots = answered()
    texts, _, _, _ = run(actions.ActionFeedback, "/feedback_good", "feedback_good", slots=slots)
    assert texts == ["Thank you, that's noted."]
    texts, _, _, _ = run(
        actions.ActionFeedback, "/feedback_bad", "feedback_bad", slots={**slots, "council": "coventry"}
    )
    assert "noted" in texts[0] and "Coventry City Council's Monitoring Officer" in texts[0]
    good, bad = store.entries()
    assert (good.kind, bad.kind) == ("helpful", "not_helpful")
    assert bad.question == PLANNING and list(bad.passage_ids) == slots["last_passages"]
    assert bad.conversation_id == "conversation-1"
