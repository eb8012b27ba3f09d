"""The feedback store and `bot report`: what a communications team reads to improve the guidance."""

import sqlite3

import pytest

from bot import cli
from bot.feedback import FeedbackStore


@pytest.fixture
def store(tmp_path):
    return FeedbackStore(tmp_path / "var" / "feedback.db")


def test_ratings_and_gaps_are_kept_with_only_the_conversation_id(store):
    store.record("c1", "not_covered", "Can I livestream a surgery?", [])
    store.record("c2", "not_helpful", "Can I block trolls?", ["p-1", "p-2"])
    with sqlite3.connect(store.path) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(feedback)")]
    assert columns == ["id", "at", "conversation_id", "kind", "question", "passage_ids"]
    gap, rating = store.entries()
    assert (gap.kind, gap.question, gap.passage_ids) == ("not_covered", "Can I livestream a surgery?", ())
    assert (rating.conversation_id, rating.passage_ids) == ("c2", ("p-1", "p-2"))
    assert rating.at.endswith("Z")


def test_an_unknown_rating_is_refused(store):
    with pytest.raises(ValueError):
        store.record("c1", "meh", "question", [])


def test_report_lists_the_most_frequent_gaps_first_then_unhelpful_answers(store):
    for _ in range(3):
        store.record("c1", "not_covered", "Can I  livestream a surgery?", [])
    store.record("c2", "not_covered", "Can I use drones?", [])
    store.record("c3", "not_helpful", "Can I block trolls?", ["p-9"])
    store.record("c3", "helpful", "Can I tweet?", ["p-1"])
    report = store.report()
    assert report.index("   3  can i livestream a surgery?") < report.index("   1  can i use drones?")
    assert "Answers rated not helpful (1; rated helpful: 1):" in report
    assert "Can I block trolls?  [passages: p-9]" in report


def test_bot_report_prints_the_report(tmp_path, monkeypatch, capsys):
    path = tmp_path / "feedback.db"
    FeedbackStore(path).record("c1", "not_covered", "Drones?", [])
    monkeypatch.setattr("bot.config.settings", lambda: type("S", (), {"feedback_db": path})())
    assert cli.main(["report"]) == 0
    assert "1  drones?" in capsys.readouterr().out
