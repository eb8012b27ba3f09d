"""Whole conversations over REST with both servers running, as a member has them."""

from bot.feedback import FeedbackStore
from rest_client import payloads, say, texts


def post(sender, message):
    replies = say(sender, message)
    buttons = [b["title"] for r in replies for b in r.get("buttons") or []]
    return texts(replies), payloads(replies), buttons


def test_six_turns_set_council_ask_full_section_other_councils_not_helpful_thanks(servers):
    member = "six-turn-conversation"
    texts, _, _ = post(member, "I'm a Peterborough councillor")
    assert texts == ["Thank you. From now on I'll quote Peterborough City Council's guidance first."]

    texts, payloads, buttons = post(member, "Can I post on Facebook after a few drinks?")
    best = payloads[0]["quotes"][0]
    assert best["council"] == "Peterborough City Council"
    assert texts[0] == f"“{best['text']}”\n— {best['citation']}"
    assert buttons == ["Full section", "Other councils", "Helpful", "Not helpful"]

    texts, payloads, _ = post(member, "/full_section")
    section = payloads[0]
    assert section["type"] == "section" and section["council"] == "Peterborough City Council"
    assert best["text"] in [p["text"] for p in section["passages"]]
    assert texts[0].endswith(f"— {section['citation']}")

    texts, payloads, _ = post(member, "/other_councils")
    councils = [row["council"] for row in payloads[0]["councils"]]
    assert "Peterborough City Council" not in councils and len(texts) == 3
    assert any(row["addressed"] for row in payloads[0]["councils"])

    texts, _, _ = post(member, "/feedback_bad")
    assert "noted" in texts[0] and "Peterborough City Council's Monitoring Officer" in texts[0]

    texts, _, _ = post(member, "thanks")
    assert texts and ("welcome" in texts[0].lower() or "glad" in texts[0].lower())

    [rating] = FeedbackStore(servers.logs / "feedback.db").entries("not_helpful")
    assert rating.conversation_id == member
    assert rating.question == "Can I post on Facebook after a few drinks?"


def test_the_members_council_is_kept_between_messages(servers):
    member = "keeps-council"
    post(member, "I'm on Cambs county council")
    texts, payloads, _ = post(member, "what does the guidance say about drinking before tweeting?")
    assert payloads and payloads[0]["type"] == "answer"  # Cambridgeshire has no such passage
    texts, _, _ = post(member, "/feedback_bad")
    assert "Cambridgeshire County Council's Monitoring Officer" in texts[0]


def test_an_unanswerable_question_is_recorded_for_the_report(servers):
    post("gaps", "Where do councillors park at the Town Hall?")
    texts, payloads, _ = post("gaps", "Is there guidance on using drones to film ward walkabouts?")
    assert payloads[0]["type"] == "not_covered" and "Monitoring Officer" in texts[0]
    # (other tests share the servers' feedback store, so every unanswered question is listed)
    report = FeedbackStore(servers.logs / "feedback.db").report(top=10_000)
    assert "is there guidance on using drones to film ward walkabouts?" in report
