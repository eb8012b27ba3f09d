"""`bot` command line: build the index, ask a question, list the passages.

bot build                 build the index if the corpus or model changed (--force: always),
                          then check the quiz (corpus/quiz.yml) against it
bot ask "question" [--council KEY] [-k N] [--json]
bot eval [--misses]       retrieval quality per method, on the development and held-out sets
bot report [--top N]      unanswered questions and answers rated not helpful
bot passages [--json]     every passage with its id, section path and the questions it answers
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from bot.config import apply_environment_defaults

apply_environment_defaults()


def _build(args) -> int:
    from bot import index, quiz
    from bot.config import settings

    reason = "asked to" if args.force else index.problem()
    if reason is None:
        print("index is up to date")
    else:
        print(f"building the index ({reason}) ...")
        manifest = index.build()
        print(f"index built: {manifest['passages']} passages in {manifest['build_seconds']}s")
    # The quiz names passages by id: check it against the index just built.
    checked = quiz.load_for(index.load_passages(), settings().corpus_dir)
    print(f"quiz checked: {len(checked.scenarios)} scenarios")
    return 0


def _ask(args) -> int:
    from bot import search
    from bot.answer import answer

    searcher = search.load()
    council = args.council.lower() if args.council else None
    if council and council not in searcher.councils():
        known = ", ".join(sorted(searcher.councils()))
        print(f"error: unknown council '{args.council}'; choose from: {known}", file=sys.stderr)
        return 2
    if args.k is not None and args.k < 1:
        print("error: -k must be at least 1", file=sys.stderr)
        return 2
    result = answer(searcher, args.question, council=council, k=args.k)
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    else:
        print("\n\n".join(result.messages()))
    return 0


def _eval(args) -> int:
    from bot import evaluate, search
    from bot.config import settings

    searcher = search.load()
    sets = [args.questions] if args.questions else evaluate.QUESTION_SETS
    for path in sets:
        print(f"## {path.name}\n")
        print(evaluate.table(evaluate.run(searcher, settings().min_score, path)))
        if args.misses:
            print()
            print("\n".join(evaluate.misses(searcher, settings().min_score, path)))
        print()
    return 0


def _report(args) -> int:
    from bot.config import settings
    from bot.feedback import FeedbackStore

    print(FeedbackStore(settings().feedback_db).report(args.top))
    return 0


def _passages(args) -> int:
    from bot.config import settings
    from bot.corpus import load_corpus

    corpus = load_corpus(settings().corpus_dir)
    for p in corpus.passages:
        if args.json:
            item = {"id": p.id, "section": p.section_path, "text": p.text, "questions": list(p.questions)}
            print(json.dumps(item, ensure_ascii=False))
        else:
            print(f"{p.id}\t{p.section_path}\t{p.text}")
            for question in p.questions:
                print(f"\tasks: {question}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bot", description="Councillors' social media guidance assistant")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build the passage index if it is out of date")
    build.add_argument("--force", action="store_true", help="rebuild even if up to date")
    build.set_defaults(run=_build)
    ask = commands.add_parser("ask", help="answer a question as the assistant would")
    ask.add_argument("question")
    ask.add_argument("--council", help="rank this council's guidance first (coventry, peterborough, ...)")
    ask.add_argument("-k", type=int, default=None, help="at most this many quoted passages")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.set_defaults(run=_ask)
    evaluation = commands.add_parser(
        "eval", help="measure retrieval on the development and held-out questions"
    )
    evaluation.add_argument(
        "--questions",
        type=Path,
        default=None,
        help="one questions file (default: tests/data/questions.yml, questions2.yml and heldout.yml)",
    )
    evaluation.add_argument("--misses", action="store_true", help="also list what hybrid search gets wrong")
    evaluation.set_defaults(run=_eval)
    report = commands.add_parser("report", help="unanswered questions and unhelpful answers")
    report.add_argument("--top", type=int, default=20, help="how many of each to list")
    report.set_defaults(run=_report)
    listing = commands.add_parser("passages", help="list every passage")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=_passages)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from bot.corpus import CorpusError

    try:
        return args.run(args)
    except CorpusError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`bot passages | head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
