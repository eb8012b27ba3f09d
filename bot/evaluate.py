"""Retrieval quality on the development questions (tests/data/questions.yml and questions2.yml, for
tuning) and the held-out ones (tests/data/heldout.yml, never tuned on).

For every method (hybrid, BM25 alone, dense alone) one run measures:
  hit@1      the first passage is correct and scores above the method's threshold (so quoted)
  hit@3      a correct passage is among the first three
  MRR        mean reciprocal rank of the first correct passage (among the first ten)
  rejection  share of out-of-scope questions whose best passage is below the threshold
  p50 / p95  search latency per question
The hybrid threshold is the configured one (BOT_MIN_SCORE); the single methods get the threshold
that suits them best on the same questions (the most right first passages while still rejecting
nine out-of-scope questions in ten), so the comparison favours them, not hybrid. Every method
shares the topic check: an off-topic question is never quoted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from bot.corpus import Passage, normalise
from bot.search import METHODS, Searcher

DEFAULT_QUESTIONS = Path(__file__).resolve().parent.parent / "tests" / "data" / "questions.yml"
# A second development set, written apart from the project but, like the first, for tuning.
SECOND_QUESTIONS = DEFAULT_QUESTIONS.with_name("questions2.yml")
# Written apart from the project and never tuned on: the measure of unseen questions.
HELD_OUT = DEFAULT_QUESTIONS.with_name("heldout.yml")
# What `bot eval` measures unless told one file: the development sets, then the held-out one.
QUESTION_SETS = (DEFAULT_QUESTIONS, SECOND_QUESTIONS, HELD_OUT)


@dataclass(frozen=True)
class Question:
    text: str
    gold: tuple[str, ...]
    council: str | None = None  # the correct passage must be this council's
    member_of: str | None = None  # the asker's council, known to the conversation

    def accepts(self, passage: Passage) -> bool:
        if self.council and passage.document.council.key != self.council:
            return False
        text = normalise(passage.text).lower()
        return any(normalise(g).lower() in text for g in self.gold)


@dataclass
class Result:
    method: str
    threshold: float
    ranks: list[int | None] = field(default_factory=list)  # 1-based rank of first correct
    top_scores: list[float] = field(default_factory=list)  # in-scope best scores
    rejected_scores: list[float] = field(default_factory=list)  # out-of-scope best scores
    latencies: list[float] = field(default_factory=list)

    def hit_at(self, k: int) -> float:
        return sum(1 for r in self.ranks if r is not None and r <= k) / len(self.ranks)

    @property
    def hit1(self) -> float:
        """First passage correct and confident enough to be quoted."""
        quoted = [r == 1 and s >= self.threshold for r, s in zip(self.ranks, self.top_scores)]
        return sum(quoted) / len(quoted)

    @property
    def mrr(self) -> float:
        return sum(1 / r for r in self.ranks if r) / len(self.ranks)

    @property
    def rejection(self) -> float:
        return sum(s < self.threshold for s in self.rejected_scores) / len(self.rejected_scores)

    def latency(self, q: float) -> float:
        return float(np.percentile(self.latencies, q) * 1000)


def load_questions(path: Path | None = None) -> tuple[list[Question], list[str]]:
    data = yaml.safe_load((path or DEFAULT_QUESTIONS).read_text(encoding="utf-8"))
    questions = [
        Question(
            text=item["q"],
            gold=tuple(item["gold"]),
            council=item.get("council"),
            member_of=item.get("member_of"),
        )
        for item in data["questions"]
    ]
    return questions, list(data["out_of_scope"])


def best_threshold(top_scores, ranks, rejected_scores, min_rejection: float = 0.9) -> float:
    """The threshold that quotes the most first passages correctly while rejecting at least
    `min_rejection` of the out-of-scope questions (or, if none can, rejecting the most)."""
    candidates = sorted(set(top_scores) | set(rejected_scores))

    def quoted(t):
        return sum(r == 1 and s >= t for r, s in zip(ranks, top_scores))

    def rejected(t):
        return sum(s < t for s in rejected_scores) / len(rejected_scores)

    good = [t for t in candidates if rejected(t) >= min_rejection]
    best = max(good, key=quoted) if good else max(candidates, key=rejected)
    # Half-way to the next lower score, so the threshold does not sit on a measured point.
    lower = [c for c in candidates if c < best]
    return round((best + lower[-1]) / 2, 4) if lower else best


def evaluate(searcher: Searcher, questions, out_of_scope, method: str, threshold: float | None) -> Result:
    """Scores below are set to -1 where the question is off-topic, as the assistant then
    quotes nothing whatever the score."""
    result = Result(method, threshold or 0.0)
    for q in questions:
        started = time.perf_counter()
        hits = searcher.search(q.text, 10, council=q.member_of, method=method)
        result.latencies.append(time.perf_counter() - started)
        result.ranks.append(next((i for i, h in enumerate(hits, 1) if q.accepts(h.passage)), None))
        result.top_scores.append(hits[0].relevance if hits and searcher.on_topic(q.text) else -1.0)
    for text in out_of_scope:
        started = time.perf_counter()
        hits = searcher.search(text, 1, method=method)
        result.latencies.append(time.perf_counter() - started)
        result.rejected_scores.append(hits[0].relevance if hits and searcher.on_topic(text) else -1.0)
    if threshold is None:
        result.threshold = best_threshold(result.top_scores, result.ranks, result.rejected_scores)
    return result


def run(searcher: Searcher, hybrid_threshold: float, path: Path | None = None) -> list[Result]:
    questions, out_of_scope = load_questions(path)
    searcher.search("warm up", 1)
    return [
        evaluate(searcher, questions, out_of_scope, m, hybrid_threshold if m == "hybrid" else None)
        for m in METHODS
    ]


def table(results: list[Result]) -> str:
    rows = [
        f"{len(results[0].ranks)} in-scope and {len(results[0].rejected_scores)} out-of-scope questions",
        "",
        "| method | hit@1 | hit@3 | MRR | rejection | threshold | p50 ms | p95 ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        rows.append(
            f"| {r.method} | {r.hit1:.3f} | {r.hit_at(3):.3f} | {r.mrr:.3f} | {r.rejection:.3f} "
            f"| {r.threshold:.3f} | {r.latency(50):.0f} | {r.latency(95):.0f} |"
        )
    return "\n".join(rows)


def misses(searcher: Searcher, threshold: float, path: Path | None = None) -> list[str]:
    """What hybrid search gets wrong: in-scope questions whose first passage is wrong or not
    quoted, and out-of-scope questions that would be quoted. For improving the vocabulary."""
    questions, out_of_scope = load_questions(path)
    lines = []
    for q in questions:
        hits = searcher.search(q.text, 3, council=q.member_of)
        if not searcher.covered(q.text, hits, threshold) or not q.accepts(hits[0].passage):
            top = f"{hits[0].relevance:.3f} {hits[0].passage.text[:90]}" if hits else "nothing"
            lines.append(f"miss    {q.text!r} -> {top}")
    for text in out_of_scope:
        hits = searcher.search(text, 1)
        if searcher.covered(text, hits, threshold):
            lines.append(f"quoted  {text!r} -> {hits[0].relevance:.3f} {hits[0].passage.text[:90]}")
    return lines
