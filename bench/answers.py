"""Answer quality end to end: every question of a question set asked over the REST channel of
running servers (NLU, dialogue, action server and search together, as members meet them).

A question counts as answered right when the reply's first message quotes a correct passage
verbatim with that passage's citation, exactly as `bot.answer.quote` writes it; an out-of-scope
question counts as declined when no message quotes anything. Each question is asked in a new
conversation, with the asker's council sent as message metadata where the question set gives one.

    python -m bench.answers [--questions FILE] [--webhook URL] [--misses]
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from bench.load import WEBHOOK
from bot.answer import quote
from bot.config import settings
from bot.corpus import load_corpus
from bot.evaluate import DEFAULT_QUESTIONS, Question, load_questions


def ask(webhook: str, message: str, council: str | None = None) -> list[dict]:
    body = {"sender": f"quality-{uuid.uuid4().hex}", "message": message}
    if council:
        body["metadata"] = {"council": council}
    request = urllib.request.Request(
        webhook, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def first_text(replies: list[dict]) -> str:
    return next((r["text"] for r in replies if r.get("text")), "")


def quoted(replies: list[dict]) -> bool:
    return any(r.get("text", "").startswith("“") for r in replies)


@dataclass
class Outcome:
    questions: int = 0
    right: int = 0
    out_of_scope: int = 0
    declined: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def hit1(self) -> float:
        return self.right / self.questions if self.questions else 0.0

    @property
    def rejection(self) -> float:
        return self.declined / self.out_of_scope if self.out_of_scope else 0.0

    def table(self) -> str:
        return (
            "| questions | first message quotes a right passage, cited | out of scope | declined |\n"
            "| --- | --- | --- | --- |\n"
            f"| {self.questions} | {self.right} ({self.hit1:.3f}) | {self.out_of_scope} | "
            f"{self.declined} ({self.rejection:.3f}) |"
        )


def right_answer(question: Question, replies: list[dict], passages) -> bool:
    """The first message is exactly the quote of a passage the question accepts."""
    first = first_text(replies)
    return any(first == quote(p) for p in passages if question.accepts(p))


def measure(webhook: str = WEBHOOK, path: Path | None = None) -> Outcome:
    questions, out_of_scope = load_questions(path)
    passages = load_corpus(settings().corpus_dir).passages
    outcome = Outcome()
    for question in questions:
        replies = ask(webhook, question.text, question.member_of)
        outcome.questions += 1
        if right_answer(question, replies, passages):
            outcome.right += 1
        else:
            outcome.misses.append(f"miss    {question.text!r} -> {first_text(replies)[:100]!r}")
    for text in out_of_scope:
        replies = ask(webhook, text)
        outcome.out_of_scope += 1
        if quoted(replies):
            outcome.misses.append(f"quoted  {text!r} -> {first_text(replies)[:100]!r}")
        else:
            outcome.declined += 1
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.answers", description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--webhook", default=WEBHOOK, help=f"the REST webhook (default {WEBHOOK})")
    parser.add_argument("--misses", action="store_true", help="also list the questions answered wrongly")
    args = parser.parse_args(argv)
    outcome = measure(args.webhook, args.questions)
    print(f"{args.questions.name}, over {args.webhook}\n")
    print(outcome.table())
    if args.misses:
        print("\n" + "\n".join(outcome.misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
