"""Write the passage questions (corpus/passage_questions.yml) as Rasa NLU examples of ask_guidance.

They are what councillors ask, in their own words, about everything the guidance answers, so
the NLU learns the whole range of guidance questions and does not take one for small talk or a
follow-up. The file is made by `make train` (and `make validate`) and not kept in git: the
questions have one home, the corpus. Questions already written as examples of another intent
are left out, as Rasa refuses an example with two intents.

    python scripts/asked_nlu.py data/nlu/asked.yml
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import settings  # noqa: E402
from bot.corpus import QUESTIONS_FILE, load_corpus  # noqa: E402

HEADER = f"""# Made by scripts/asked_nlu.py from corpus/{QUESTIONS_FILE} (`make train`); edit that file,
# not this one.
"""


def other_examples(nlu_dir: Path, output: Path) -> set[str]:
    """Every NLU example (lower case) in the other files of `nlu_dir`."""
    seen = set()
    for path in nlu_dir.glob("*.yml"):
        if path.resolve() == output.resolve():
            continue
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            for line in str(block.get("examples", "")).splitlines():
                if line.strip().startswith("- "):
                    seen.add(line.strip()[2:].strip().lower())
    return seen


def main(argv: list[str]) -> int:
    output = Path(argv[0]) if argv else ROOT / "data" / "nlu" / "asked.yml"
    taken = other_examples(output.parent, output)
    questions = []
    for passage in load_corpus(settings().corpus_dir).passages:
        for question in passage.questions:
            if question.lower() not in taken:
                taken.add(question.lower())
                questions.append(question)
    examples = "".join(f"      - {q}\n" for q in questions)
    text = f'{HEADER}version: "3.1"\n\nnlu:\n  - intent: ask_guidance\n    examples: |\n{examples}'
    output.write_text(text, encoding="utf-8")
    print(f"{output}: {len(questions)} questions from corpus/{QUESTIONS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
