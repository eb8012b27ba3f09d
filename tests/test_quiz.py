"""The quiz (bot/quiz.py) and its content (corpus/quiz.yml), without any server."""

import random
import textwrap
from pathlib import Path

import pytest

from bot import quiz
from bot.answer import cite
from bot.corpus import load_corpus
from bot.datafile import CorpusError

ROOT = Path(__file__).resolve().parent.parent
PASSAGES = load_corpus(ROOT / "corpus").passages
MAIN_TOPICS = {
    "predetermination",
    "confidentiality",
    "abuse and harassment",
    "defamation and copyright",
    "electoral periods and campaigning",
    "personal and council accounts",
    "posting in haste",
    "data protection",
}


@pytest.fixture(scope="module")
def content():
    return quiz.load_for(PASSAGES, ROOT / "corpus")


def test_the_quiz_covers_every_council_and_main_topic(content):
    assert len(content.scenarios) >= 24
    assert {s.council for s in content.scenarios} == {
        "coventry",
        "peterborough",
        "broxtowe",
        "cambridgeshire",
    }
    assert {s.topic for s in content.scenarios} == MAIN_TOPICS
    for scenario in content.scenarios:
        assert len(scenario.options) == 3 and len(set(scenario.options)) == 3
        assert scenario.passages


def write(tmp_path, scenarios: str, topics="[posting in haste]") -> Path:
    path = tmp_path / "quiz.yml"
    path.write_text(f"topics: {topics}\nscenarios:\n" + textwrap.indent(textwrap.dedent(scenarios), "  "))
    return path


HASTE = PASSAGES[0].id


def scenario(options: str, settled_by=None, scenario_id="haste") -> str:
    return (
        f"""\
    - id: {scenario_id}
      topic: posting in haste
      question: You are tired. What should you do?
      options:
{textwrap.indent(textwrap.dedent(options), "        ")}
      settled_by: [{settled_by or HASTE}]
    """.rstrip()
        + "\n"
    )


GOOD_OPTIONS = """\
- text: Post now
- text: Wait
  right: true
- text: Post twice
"""


def test_a_valid_file_loads(tmp_path):
    loaded = quiz.load(write(tmp_path, scenario(GOOD_OPTIONS)), PASSAGES)
    assert [s.answer for s in loaded.scenarios] == ["Wait"]


@pytest.mark.parametrize(
    "scenarios, line, words",
    [
        (scenario(GOOD_OPTIONS, settled_by="no-such-passage"), 12, "'no-such-passage' is not in the index"),
        (
            scenario("- text: Post now\n  right: true\n- text: Wait\n  right: true\n- text: Post twice\n"),
            6,
            "exactly one option with `right: true`; it has 2",
        ),
        (scenario("- text: Post now\n- text: Wait\n- text: Post twice\n"), 6, "it has 0"),
        (scenario("- text: Post now\n- text: Wait\n  right: true\n"), 6, "exactly 3 options"),
        (scenario(GOOD_OPTIONS) + scenario(GOOD_OPTIONS), 13, "'haste' is used twice (first on line 3)"),
        (
            scenario(GOOD_OPTIONS).replace("posting in haste", "gossip"),
            4,
            "topic 'gossip' is not one of `topics`",
        ),
    ],
    ids=["unknown passage", "two right", "none right", "two options", "same id twice", "unknown topic"],
)
def test_mistakes_are_reported_with_file_and_line(tmp_path, scenarios, line, words):
    path = write(tmp_path, scenarios)
    with pytest.raises(CorpusError) as error:
        quiz.load(path, PASSAGES)
    assert f"{path}:{line}:" in str(error.value)
    assert words in str(error.value)


def texts(messages):
    return [m["text"] for m in messages if "text" in m]


def customs(messages, kind):
    return [m["custom"] for m in messages if m.get("custom", {}).get("type") == kind]


def test_a_known_councils_scenarios_come_first(content):
    own = sum(s.council == "broxtowe" for s in content.scenarios)
    state = quiz.start(content, "broxtowe", length=own + 2, rng=random.Random(1))
    councils = [content.by_id(i).council for i in state["ids"]]
    assert councils[:own] == ["broxtowe"] * own
    assert "broxtowe" not in councils[own:]


def test_a_whole_quiz_quotes_the_settling_passages_and_ends_with_score_and_sections(content):
    state = quiz.start(content, None, length=3, rng=random.Random(7))
    first = quiz.question(content, state)
    asked = customs(first, "quiz_question")[0]
    assert asked["number"] == 1 and asked["of"] == 3
    assert [b["title"][:3] for b in first[0]["buttons"]] == ["A. ", "B. ", "C. "]
    wrong_ones = []
    for n in range(3):
        scenario = content.by_id(state["ids"][state["at"]])
        chosen = scenario.right if n != 1 else (scenario.right + 1) % 3
        if n == 1:
            wrong_ones.append(scenario)
        payload = quiz.answer_payload(scenario, chosen)
        state, reply = quiz.answer(content, state, payload)
        feedback = customs(reply, "quiz_feedback")[0]
        assert feedback["right"] == (n != 1)
        said = texts(reply)[0]
        assert (
            said.startswith("Right.")
            if n != 1
            else said.startswith(f"Not quite: the answer is {'ABC'[scenario.right]}. {scenario.answer}")
        )
        for passage in scenario.passages:
            assert f"“{passage.text}”\n— {cite(passage)}" in texts(reply)
        assert [q["text"] for q in feedback["quotes"]] == [p.text for p in scenario.passages]
    assert state is None
    result = customs(reply, "quiz_result")[0]
    assert (result["score"], result["of"]) == (2, 3)
    assert result["read_again"] == [cite(p) for p in wrong_ones[0].passages]
    assert "You scored 2 out of 3." in texts(reply)[-1]
    assert cite(wrong_ones[0].passages[0]) in texts(reply)[-1]


def test_typed_answers_stale_buttons_and_stopping(content):
    state = quiz.start(content, None, length=5, rng=random.Random(3))
    scenario = content.by_id(state["ids"][0])
    for typed, index in [("b", 1), ("Option C", 2), ("the first one", 0), ("2", 1)]:
        assert quiz.parse_choice(typed) == (None, index)
    assert quiz.parse_choice("can I tweet about a planning application") == (None, None)
    unchanged, reply = quiz.answer(content, state, "what?")
    assert unchanged == state and texts(reply)[0] == quiz.NOT_AN_OPTION
    other = next(s for s in content.scenarios if s.id != scenario.id)
    unchanged, reply = quiz.answer(content, state, quiz.answer_payload(other, 0))
    assert unchanged == state and "earlier question" in texts(reply)[0]
    state, _ = quiz.answer(content, state, "abc"[scenario.right])
    assert state["at"] == 1 and state["right"] == 1
    stopped = quiz.stop(content, state)
    assert "You answered 1 of 5 questions and got 1 right." in texts(stopped)[0]
    assert quiz.stop(content, None) == [{"text": quiz.NO_QUIZ}]
    assert quiz.answer(content, None, "b")[0] is None


def test_tally_counts_votes_and_marks_the_right_option(content):
    scenario = content.scenarios[0]
    rows = quiz.tally(scenario, {"a": 0, "b": scenario.right, "c": scenario.right})
    assert sum(r["votes"] for r in rows) == 3
    assert [r["right"] for r in rows].count(True) == 1
    assert rows[scenario.right]["votes"] == 2 + (scenario.right == 0)
