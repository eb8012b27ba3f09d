"""The quiz: scenario questions with three options, each settled by passages of the guidance.

The scenarios are data (corpus/quiz.yml), checked against the index's passages when they are
loaded. A quiz in progress is a small JSON-able dict (`state`), which a channel keeps wherever it
keeps a conversation (a Rasa slot, a training session). Every reply is a list of messages in the
shape channels send them: `{"text": ..., "buttons": [...]}` or `{"custom": {...}}`.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

from bot.answer import cite, passage_payload, quote
from bot.corpus import Passage
from bot.datafile import CorpusError, line_of, read_yaml

QUIZ_FILE = "quiz.yml"
LETTERS = "ABC"
OPTIONS = len(LETTERS)
SCENARIO_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
ANSWER_INTENT = "/quiz_answer"
START_PAYLOAD = "/quiz_start"
STOP_PAYLOAD = "/quiz_stop"
# A typed answer: "b", "option B", "the second one", "2".
TYPED_ANSWER = re.compile(
    r"(?:(?:option|answer|i pick|i choose|i think|the)\s+)?"
    r"([abc123]|first|second|third)(?:\s+(?:one|option))?[.!]?",
    re.IGNORECASE,
)
TYPED = {"a": 0, "b": 1, "c": 2, "1": 0, "2": 1, "3": 2, "first": 0, "second": 1, "third": 2}

NO_QUIZ = "There is no quiz running. Say “quiz me” to start one."
NOT_AN_OPTION = "Please choose one of the options: A, B or C."


@dataclass(frozen=True)
class Scenario:
    id: str
    topic: str
    question: str
    options: tuple[str, ...]
    right: int  # index into options
    passages: tuple[Passage, ...]  # the passages that settle it, as quoted after an answer

    @property
    def council(self) -> str:
        return self.passages[0].document.council.key

    @property
    def answer(self) -> str:
        return self.options[self.right]


@dataclass(frozen=True)
class Quiz:
    scenarios: tuple[Scenario, ...]
    topics: tuple[str, ...]

    def by_id(self, scenario_id: str) -> Scenario | None:
        return next((s for s in self.scenarios if s.id == scenario_id), None)


def load(path: Path, passages: list[Passage]) -> Quiz:
    """The quiz in `path`, checked against the index's passages: every scenario has an id, a topic
    from the file's list, a question, three options of which exactly one is right, and passage
    ids that exist. Any mistake raises CorpusError with the file and line."""
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise CorpusError(f"{path}: expected a mapping with `topics` and `scenarios`")
    topics = data.get("topics")
    if not isinstance(topics, list) or not topics or not all(isinstance(t, str) for t in topics):
        raise CorpusError(f"{path}{line_of(data, 'topics')}: `topics` must be a list of names")
    items = data.get("scenarios")
    if not isinstance(items, list) or not items:
        raise CorpusError(f"{path}{line_of(data, 'scenarios')}: `scenarios` must be a list of scenarios")
    known = {p.id: p for p in passages}
    scenarios, seen = [], {}
    for item in items:
        scenario = _scenario(path, item, topics, known)
        if scenario.id in seen:
            raise CorpusError(
                f"{path}{line_of(item, 'id')}: scenario id {scenario.id!r} is used twice "
                f"(first on line {seen[scenario.id]})"
            )
        seen[scenario.id] = getattr(item, "lines", {}).get("id")
        scenarios.append(scenario)
    return Quiz(tuple(scenarios), tuple(topics))


def _scenario(path: Path, item, topics: list[str], known: dict[str, Passage]) -> Scenario:
    if not isinstance(item, dict):
        raise CorpusError(
            f"{path}: every scenario must be a mapping (id, topic, question, options, settled_by)"
        )
    where = f"{path}{line_of(item, 'id') or line_of(item, next(iter(item), None))}"
    scenario_id = item.get("id")
    if not isinstance(scenario_id, str) or not SCENARIO_ID.fullmatch(scenario_id):
        raise CorpusError(f"{where}: a scenario needs an `id` of lower-case letters, digits and hyphens")
    name = f"scenario {scenario_id!r}"
    missing = [key for key in ("topic", "question", "options", "settled_by") if key not in item]
    if missing:
        raise CorpusError(f"{where}: {name} has no {', '.join(missing)}")
    if item["topic"] not in topics:
        raise CorpusError(
            f"{path}{line_of(item, 'topic')}: {name}: topic {item['topic']!r} is not one of `topics`"
        )
    if not isinstance(item["question"], str) or not item["question"].strip():
        raise CorpusError(f"{path}{line_of(item, 'question')}: {name}: the question must be text")
    options = item["options"]
    at = f"{path}{line_of(item, 'options')}"
    if not isinstance(options, list) or len(options) != OPTIONS:
        raise CorpusError(f"{at}: {name} must have exactly {OPTIONS} options")
    for option in options:
        if (
            not isinstance(option, dict)
            or not isinstance(option.get("text"), str)
            or not option["text"].strip()
        ):
            raise CorpusError(f"{at}: {name}: every option must be a mapping with `text`")
        if set(option) - {"text", "right"} or option.get("right", False) not in (True, False):
            raise CorpusError(
                f"{path}{line_of(option, 'text')}: {name}: an option has only `text` and `right: true`"
            )
    right = [i for i, option in enumerate(options) if option.get("right") is True]
    if len(right) != 1:
        raise CorpusError(
            f"{at}: {name} must have exactly one option with `right: true`; it has {len(right)}"
        )
    ids = item["settled_by"]
    at = f"{path}{line_of(item, 'settled_by')}"
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise CorpusError(f"{at}: {name}: `settled_by` must be a list of passage ids")
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise CorpusError(
            f"{at}: {name}: passage {', '.join(map(repr, unknown))} is not in the index (see `bot passages`)"
        )
    return Scenario(
        scenario_id,
        item["topic"],
        " ".join(item["question"].split()),
        tuple(" ".join(o["text"].split()) for o in options),
        right[0],
        tuple(known[i] for i in ids),
    )


def load_for(passages: list[Passage], corpus_dir: Path) -> Quiz:
    return load(corpus_dir / QUIZ_FILE, passages)


# --------------------------------------------------------------------------- shared pieces


def option_label(scenario: Scenario, i: int) -> str:
    return f"{LETTERS[i]}. {scenario.options[i]}"


def answer_payload(scenario: Scenario, i: int) -> str:
    return f"{ANSWER_INTENT}{json.dumps({'quiz_choice': f'{scenario.id}:{i + 1}'})}"


def parse_choice(text: str) -> tuple[str | None, int | None]:
    """(scenario id or None, option index or None) from a button's payload or a typed answer."""
    text = (text or "").strip()
    if text.startswith(ANSWER_INTENT):
        try:
            choice = json.loads(text[len(ANSWER_INTENT) :] or "{}").get("quiz_choice", "")
        except (ValueError, AttributeError):
            return None, None
        scenario_id, _, number = str(choice).rpartition(":")
        if number.isdigit() and 1 <= int(number) <= OPTIONS:
            return scenario_id or None, int(number) - 1
        return None, None
    typed = TYPED_ANSWER.fullmatch(" ".join(text.split()))
    return None, TYPED[typed.group(1).lower()] if typed else None


# --------------------------------------------------------------------------- one member's quiz


def start(quiz: Quiz, council: str | None, length: int, rng: random.Random | None = None) -> dict:
    """A new quiz: `length` scenarios, the member's council's first, each group shuffled."""
    rng = rng or random.Random()
    own = [s.id for s in quiz.scenarios if council and s.council == council]
    rest = [s.id for s in quiz.scenarios if s.id not in own]
    rng.shuffle(own)
    rng.shuffle(rest)
    return {"ids": (own + rest)[: max(1, length)], "at": 0, "right": 0, "missed": []}


def valid_state(state) -> bool:
    return (
        isinstance(state, dict)
        and isinstance(state.get("ids"), list)
        and isinstance(state.get("at"), int)
        and 0 <= state["at"] < len(state["ids"])
    )


def question(quiz: Quiz, state: dict) -> list[dict]:
    """The current scenario with its options as buttons."""
    scenario = quiz.by_id(state["ids"][state["at"]])
    number, total = state["at"] + 1, len(state["ids"])
    buttons = [
        {"title": option_label(scenario, i), "payload": answer_payload(scenario, i)} for i in range(OPTIONS)
    ]
    options = "\n".join(option_label(scenario, i) for i in range(OPTIONS))
    return [
        {"text": f"Question {number} of {total}: {scenario.question}\n{options}", "buttons": buttons},
        {
            "custom": {
                "type": "quiz_question",
                "scenario": scenario.id,
                "number": number,
                "of": total,
                "question": scenario.question,
                "options": [
                    {"letter": LETTERS[i], "text": o, "payload": b["payload"]}
                    for i, (o, b) in enumerate(zip(scenario.options, buttons))
                ],
                "stop": STOP_PAYLOAD,
            }
        },
    ]


def verdict(scenario: Scenario, chosen: int) -> list[dict]:
    """Whether `chosen` is right, and the passages that settle it, quoted and cited."""
    right = chosen == scenario.right
    said = "Right." if right else f"Not quite: the answer is {option_label(scenario, scenario.right)}"
    return [
        {"text": f"{said} The guidance says:"},
        *({"text": quote(p)} for p in scenario.passages),
        {
            "custom": {
                "type": "quiz_feedback",
                "scenario": scenario.id,
                "right": right,
                "chosen": LETTERS[chosen],
                "answer": option_label(scenario, scenario.right),
                "quotes": [passage_payload(p) for p in scenario.passages],
            }
        },
    ]


def read_again(quiz: Quiz, missed: list[str]) -> list[str]:
    """The citations of the sections that settle the missed scenarios, each once."""
    citations = []
    for scenario_id in missed:
        scenario = quiz.by_id(scenario_id)
        for passage in scenario.passages if scenario else ():
            citation = cite(passage)
            if citation not in citations:
                citations.append(citation)
    return citations


def result(quiz: Quiz, state: dict, answered: int, stopped: bool = False) -> list[dict]:
    """The score so far (or at the end) and the sections to read again."""
    again = read_again(quiz, state["missed"])
    if stopped:
        text = (
            f"Quiz stopped. You answered {answered} of {len(state['ids'])} questions "
            f"and got {state['right']} right."
        )
    else:
        text = f"That's the end of the quiz. You scored {state['right']} out of {answered}."
    if again:
        text += "\nSections to read again:\n" + "\n".join(f"• {c}" for c in again)
    elif answered and not stopped:
        text += " Well done."
    payload = {
        "type": "quiz_result",
        "score": state["right"],
        "of": answered,
        "questions": len(state["ids"]),
        "stopped": stopped,
        "read_again": again,
    }
    buttons = [{"title": "Another quiz", "payload": START_PAYLOAD}]
    return [{"text": text, "buttons": buttons}, {"custom": payload}]


def answer(quiz: Quiz, state, text: str) -> tuple[dict | None, list[dict]]:
    """The quiz after the member's answer (None once it is over) and the reply: the verdict with
    the settling passages, then the next question or the score."""
    if not valid_state(state):
        return None, [{"text": NO_QUIZ, "buttons": [{"title": "Quiz me", "payload": START_PAYLOAD}]}]
    current = quiz.by_id(state["ids"][state["at"]])
    scenario_id, chosen = parse_choice(text)
    if chosen is None:
        return state, [{"text": NOT_AN_OPTION}, *question(quiz, state)]
    if scenario_id is not None and scenario_id != current.id:
        return state, [
            {"text": "That answer is for an earlier question. This is the current one:"},
            *question(quiz, state),
        ]
    state = {**state, "missed": list(state.get("missed", []))}
    if chosen == current.right:
        state["right"] += 1
    else:
        state["missed"].append(current.id)
    reply = verdict(current, chosen)
    state["at"] += 1
    if state["at"] >= len(state["ids"]):
        return None, reply + result(quiz, state, len(state["ids"]))
    return state, reply + question(quiz, state)


def stop(quiz: Quiz, state) -> list[dict]:
    if not valid_state(state):
        return [{"text": NO_QUIZ}]
    return result(quiz, state, state["at"], stopped=True)


# --------------------------------------------------------------------------- a room's quiz


def tally(scenario: Scenario, votes: dict[str, int]) -> list[dict]:
    """How many chose each option (votes: voter -> option index), the right one marked."""
    counts = [0] * OPTIONS
    for choice in votes.values():
        if 0 <= choice < OPTIONS:
            counts[choice] += 1
    return [
        {"letter": LETTERS[i], "text": scenario.options[i], "votes": counts[i], "right": i == scenario.right}
        for i in range(OPTIONS)
    ]
