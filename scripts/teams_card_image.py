"""Writes docs/teams-card.png, the picture of a Teams answer card in the README: the card the
Teams channel sends for a question, rendered by Microsoft's adaptivecards renderer with Teams'
host config in Debian's Chromium (tests/adaptive_cards.py). Needs the index (`make index`).

    .venv/bin/python scripts/teams_card_image.py [question] [--out docs/teams-card.png]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from actions.actions import ANSWER_BUTTONS, searcher  # noqa: E402
from adaptive_cards import card_renderer  # noqa: E402
from bot.answer import answer  # noqa: E402
from channels.cards import turn_card  # noqa: E402

QUESTION = "Can I tweet my view on a planning application before the committee decides?"


def answer_turn(question: str) -> list[dict]:
    """The messages action_answer_question sends for the question."""
    result = answer(searcher(), question)
    reply = result.reply()
    buttons = ANSWER_BUTTONS if result.covered else None
    return [{"text": text} for text in reply.messages] + [{"custom": reply.payload, "buttons": buttons}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("question", nargs="?", default=QUESTION)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "teams-card.png")
    args = parser.parse_args()
    card = turn_card(answer_turn(args.question))["attachments"][0]["content"]
    with card_renderer() as renderer:
        problems = renderer.render(card)["problems"]
        if problems:
            sys.exit(f"the card is not valid: {problems}")
        renderer.screenshot(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
