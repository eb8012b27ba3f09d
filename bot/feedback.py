"""Ratings and unanswered questions, kept so the communications team can improve the guidance.

One SQLite table holds both. A row has the conversation id (the only identifier kept), the
question, the ids of the passages shown, the rating (`helpful`, `not_helpful`) or `not_covered`,
and the time. `bot report` reads it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

KINDS = ("helpful", "not_helpful", "not_covered")
SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('helpful', 'not_helpful', 'not_covered')),
    question TEXT NOT NULL,
    passage_ids TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class Entry:
    at: str
    conversation_id: str
    kind: str
    question: str
    passage_ids: tuple[str, ...]


class FeedbackStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        # A short-lived connection per call: safe across the action server's threads.
        return sqlite3.connect(self.path, timeout=10)

    def record(self, conversation_id: str, kind: str, question: str, passage_ids: list[str]) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        with self._connect() as db:
            db.execute(
                "INSERT INTO feedback (at, conversation_id, kind, question, passage_ids) "
                "VALUES (?, ?, ?, ?, ?)",
                (at, conversation_id, kind, question.strip(), json.dumps(list(passage_ids))),
            )

    def entries(self, kind: str | None = None) -> list[Entry]:
        query = "SELECT at, conversation_id, kind, question, passage_ids FROM feedback"
        args: tuple = ()
        if kind:
            query += " WHERE kind = ?"
            args = (kind,)
        with self._connect() as db:
            rows = db.execute(query + " ORDER BY id", args).fetchall()
        return [Entry(at, cid, k, q, tuple(json.loads(ids))) for at, cid, k, q, ids in rows]

    def report(self, top: int = 20) -> str:
        """The most frequent questions the guidance did not cover, then the answers rated not
        helpful: the list a communications team works from."""
        entries = self.entries()
        gaps = Counter(" ".join(e.question.lower().split()) for e in entries if e.kind == "not_covered")
        unhelpful = [e for e in entries if e.kind == "not_helpful"]
        helpful = sum(e.kind == "helpful" for e in entries)
        lines = [f"Questions the guidance did not cover ({sum(gaps.values())} in all):"]
        lines += [f"  {n:4d}  {question}" for question, n in gaps.most_common(top)] or ["  none"]
        lines += ["", f"Answers rated not helpful ({len(unhelpful)}; rated helpful: {helpful}):"]
        lines += [
            f"  {e.at}  {e.question}  [passages: {', '.join(e.passage_ids) or 'none'}]"
            for e in unhelpful[-top:]
        ] or ["  none"]
        return "\n".join(lines)
