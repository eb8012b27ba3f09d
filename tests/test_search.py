"""Hybrid search: the right passage first for questions as councillors write them."""

import dataclasses
import io
import json
from contextlib import redirect_stdout

import numpy as np
import pytest
import yaml

from bot import cli, evaluate
from bot.config import PROJECT_ROOT as ROOT
from bot.config import settings
from bot.corpus import CorpusError, load_corpus, load_not_covered
from bot.search import METHODS, Searcher, Vocabulary


@pytest.fixture(scope="module")
def results(searcher):
    return {r.method: r for r in evaluate.run(searcher, settings().min_score)}


@pytest.mark.slow  # evaluates every method at every threshold on the development set
def test_hybrid_meets_the_quality_floors(results):
    """The development set: measured 0.928 hit@1 (232 of 250), 0.963 rejection (103 of 107)."""
    hybrid = results["hybrid"]
    assert hybrid.hit1 >= 0.92, f"hit@1 {hybrid.hit1:.3f}"
    assert hybrid.rejection >= 0.95, f"rejection {hybrid.rejection:.3f}"
    assert hybrid.hit_at(3) >= 0.93


def test_hybrid_meets_the_quality_floors_on_the_second_development_set(searcher):
    """tests/data/questions2.yml: measured 0.844 hit@1 (54 of 64), 0.952 rejection (20 of 21).
    The floors allow one question less each."""
    questions, out_of_scope = evaluate.load_questions(evaluate.SECOND_QUESTIONS)
    hybrid = evaluate.evaluate(searcher, questions, out_of_scope, "hybrid", settings().min_score)
    assert hybrid.hit1 >= 0.82, f"hit@1 {hybrid.hit1:.3f}"
    assert hybrid.rejection >= 0.9, f"rejection {hybrid.rejection:.3f}"


def test_hybrid_beats_each_single_method(results):
    for method in ("bm25", "dense"):
        assert results["hybrid"].hit1 > results[method].hit1, method
        assert results["hybrid"].mrr > results[method].mrr, method


def test_development_set_is_as_large_as_promised():
    questions, out_of_scope = evaluate.load_questions()
    assert len(questions) >= 80 and len(out_of_scope) >= 15
    assert all(q.gold for q in questions)


def test_vocabulary_puts_questions_into_the_guidances_words(searcher):
    prepared = searcher.prepare("is it ok to post on fb when drunk")
    assert "facebook" in prepared and "alcohol" in prepared


def test_longer_phrases_win_over_their_words():
    vocabulary = Vocabulary({"campaign": "campaigning", "campaign group": "pressure group"})
    expanded = vocabulary.expand("should i follow a campaign group")
    assert "pressure group" in expanded and "campaigning" not in expanded


def test_typos_are_corrected_but_real_words_are_kept(searcher):
    assert searcher.prepare("can i tweet abot a planing aplication").count("planning application") >= 1
    assert "seats" in searcher.prepare("how many seats does each party have")


@pytest.mark.parametrize(
    "question, expected",
    [
        ("can i tweet abot a planing aplication before the committee meets", "made your mind up"),
        ("is it ok to post on fb when drunk", "consumed alcohol"),
        (
            "someone who applied for planning permission wants to be my friend on facebook",
            "someone submitting a planning application",
        ),
        ("can i plug my wife's cafe on my cllr twitter", "personal financial interests"),
    ],
)
def test_hard_questions_find_the_passage_that_answers_them(searcher, question, expected):
    hits = searcher.search(question, 1)
    assert expected in hits[0].passage.text


def test_a_council_named_in_the_question_comes_first(searcher):
    for key in ("coventry", "peterborough", "broxtowe"):
        name = searcher.councils()[key].name.split()[0]
        hits = searcher.search(f"What does {name} say about deleting comments?", 3)
        assert hits[0].passage.document.council.key == key


def test_the_members_own_council_comes_first_when_it_answers(searcher):
    question = "Can I post on Facebook after a few drinks?"
    for key in ("coventry", "peterborough", "broxtowe"):
        hits = searcher.search(question, 3, council=key)
        assert hits[0].passage.document.council.key == key
        assert "alcohol" in hits[0].passage.text


def test_document_facts_find_the_report(searcher):
    hits = searcher.search("How many members will Coventry's protocol go to?", 1)
    assert "all 54 elected members" in hits[0].passage.text
    assert hits[0].passage.document.kind == "report"


@pytest.mark.parametrize(
    "question",
    [
        "Where can councillors park at the Town Hall?",
        "What's the capital of Australia?",
        "When is my green bin collected?",
    ],
)
def test_off_topic_questions_are_not_covered(searcher, question):
    hits = searcher.search(question, 1)
    assert not searcher.covered(question, hits, settings().min_score)


def test_a_message_embedded_ahead_is_not_embedded_again_by_its_search(searcher):
    question = "May I post a photo of a constituent's broken fence on my councillor page?"
    assert searcher.embed_ahead(question) is True
    assert searcher.embed_ahead(question) is False
    misses = searcher.index.dense.cache_info().misses
    hits = searcher.search(question, 3)
    assert searcher.index.dense.cache_info().misses == misses
    searcher.index.dense.cache_clear()
    assert [h.passage.id for h in searcher.search(question, 3)] == [h.passage.id for h in hits]
    assert searcher.embed_ahead("   ") is False


def test_every_method_ranks(searcher):
    for method in METHODS:
        assert searcher.search("copyright of photos", 1, method=method)
    with pytest.raises(ValueError):
        searcher.search("copyright", 1, method="magic")


def test_invalid_vocabulary_names_file_and_line(tmp_path):
    path = tmp_path / "vocabulary.yml"
    path.write_text("synonyms:\n  fb: facebook\n  broken: [unclosed\n")
    with pytest.raises(CorpusError, match=r"vocabulary\.yml:\d+: not valid YAML"):
        Vocabulary.load(path)


def run_cli(*args):
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli.main(list(args))
    return code, out.getvalue()


def test_bot_ask_prints_the_bots_answer_as_json(project_index):
    code, out = run_cli("ask", "can I tweet after a drink?", "--council", "broxtowe", "-k", "2", "--json")
    answer = json.loads(out)
    assert code == 0 and answer["type"] == "answer"
    assert len(answer["quotes"]) == 2 and answer["quotes"][0]["council"] == "Broxtowe Borough Council"
    assert answer["messages"][0] == f"“{answer['quotes'][0]['text']}”\n— {answer['quotes'][0]['citation']}"


def test_bot_ask_rejects_an_unknown_council(capsys):
    assert cli.main(["ask", "anything", "--council", "atlantis"]) == 2
    assert "unknown council 'atlantis'" in capsys.readouterr().err


def test_held_out_questions_meet_their_floors_and_hybrid_beats_each_single_method(searcher):
    """tests/data/heldout.yml was written apart from the project and is never tuned on; measured
    0.860 hit@1 (92 of 107) and 0.96 rejection (24 of 25). The floors allow one question less each."""
    results = {r.method: r for r in evaluate.run(searcher, settings().min_score, evaluate.HELD_OUT)}
    hybrid = results["hybrid"]
    assert hybrid.hit1 >= 0.85, f"hit@1 {hybrid.hit1:.3f}"
    assert hybrid.rejection >= 0.9, f"rejection {hybrid.rejection:.3f}"
    for method in ("bm25", "dense"):
        assert hybrid.hit1 > results[method].hit1, method


def test_held_out_set_is_as_large_as_promised():
    questions, out_of_scope = evaluate.load_questions(evaluate.HELD_OUT)
    councils = {q.council for q in questions if q.council}
    assert len(questions) >= 80 and len(out_of_scope) >= 20
    assert councils >= {"coventry", "peterborough", "broxtowe", "cambridgeshire"}


def test_an_unquoted_key_that_yaml_reads_as_a_boolean_names_file_and_line(tmp_path):
    path = tmp_path / "vocabulary.yml"
    path.write_text('synonyms:\n  "fb": facebook\n  false: untrue\n', encoding="utf-8")
    with pytest.raises(CorpusError, match=r"vocabulary\.yml:3: the key 'false' is not text"):
        Vocabulary.load(path)


def test_a_vocabulary_entry_must_add_words(tmp_path):
    path = tmp_path / "vocabulary.yml"
    path.write_text('synonyms:\n  "fb": facebook\n  "insta":\n', encoding="utf-8")
    with pytest.raises(CorpusError, match=r"vocabulary\.yml:3: 'insta' must add words"):
        Vocabulary.load(path)


def test_asking_whether_one_may_lowers_the_bar_only_for_such_questions(searcher):
    vocabulary = Vocabulary({}, asking=["can i", "allowed"])
    assert vocabulary.asks("Can I share a photo?") and vocabulary.asks("sharing photos, allowed?")
    assert not vocabulary.asks("How many followers does the council page have?")
    assert not vocabulary.asks("scanning images")  # whole words only
    question = "Can I share a photo from a council event?"
    plain = searcher.scores(question.replace("Can I", "Sharing"), "dense")
    asked = searcher.scores(question, "dense")
    assert float(asked.relevance.max() - asked.ranking.max()) == pytest.approx(searcher.weights.asking)
    assert float(plain.relevance.max()) == pytest.approx(float(plain.ranking.max()))


def nlu_examples(intent):
    data = yaml.safe_load((ROOT / "data" / "nlu" / f"{intent}.yml").read_text(encoding="utf-8"))
    [block] = [item["examples"] for item in data["nlu"] if item.get("intent") == intent]
    return [line[2:].strip() for line in block.splitlines() if line.startswith("- ")]


def test_no_out_of_scope_nlu_example_is_answered_by_the_guidance(searcher):
    """The NLU sends every question to the search; these examples only teach it what other
    questions look like, so none of them may be one the guidance answers."""
    examples = nlu_examples("out_of_scope")
    assert len(examples) >= 20
    answered = [q for q in examples if searcher.covered(q, searcher.search(q, 1), settings().min_score)]
    assert answered == []


@pytest.mark.parametrize(
    "question",
    [
        "What will the weather be like for the ward walkabout on Saturday?",
        "How much is the basic allowance for a district councillor?",
        "Which day are the brown bins emptied in my ward?",
        "Is there free parking for members at the civic centre?",
        "can I post my bin collection days?",
    ],
)
def test_the_search_declines_what_the_guidance_does_not_cover(searcher, question):
    assert not searcher.covered(question, searcher.search(question, 1), settings().min_score)


def test_a_list_item_that_only_names_a_platform_is_not_the_answer(searcher):
    """Such items have no passage questions, so a passage that gives guidance ranks above them."""
    [hit] = searcher.search("Can I post photos from a council meeting on Instagram?", 1)
    assert hit.passage.text != "Photo sharing services (e.g. Instagram)"
    assert hit.passage.questions


def test_bot_passages_shows_the_questions_each_passage_answers():
    code, out = run_cli("passages", "--json")
    items = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(items) >= 200
    asked = [item for item in items if item["questions"]]
    assert len(asked) >= 200
    code, out = run_cli("passages")
    assert f"\tasks: {asked[0]['questions'][0]}" in out


def test_a_question_nearer_one_the_guidance_does_not_answer_is_declined(searcher):
    """corpus/not_covered.yml: each of its questions is declined."""
    not_covered = load_corpus(settings().corpus_dir).not_covered
    assert len(not_covered) >= 200
    quoted = [q for q in not_covered if searcher.covered(q, searcher.search(q, 1), settings().min_score)]
    assert quoted == []


def test_the_not_covered_file_names_file_and_line_of_a_mistake(tmp_path):
    path = tmp_path / "not_covered.yml"
    path.write_text('questions:\n  - "How do I renew my bus pass?"\n  - 42\n', encoding="utf-8")
    with pytest.raises(CorpusError, match=r"not_covered\.yml:1: question 2 must be a line of text"):
        load_not_covered(path)
    path.write_text("- just a list\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"not_covered\.yml: must hold 'questions:'"):
        load_not_covered(path)


def test_a_short_message_opening_with_a_continuing_phrase_carries_on():
    vocabulary = Vocabulary({}, continuing=["what about", "and"])
    assert vocabulary.continues("What about on Twitter?", 8)
    assert vocabulary.continues("and if they gave permission?", 8)
    assert not vocabulary.continues("Anderson asked me to post it", 8)  # whole words only
    assert not vocabulary.continues("Can I post a photo? And what about video?", 8)  # opening only
    assert not vocabulary.continues("and what about the photos I took of the residents at the fete?", 8)


@pytest.mark.parametrize(
    "message, continues",
    [
        ("what about on Twitter?", True),
        ("and if they gave permission?", True),
        ("what about council tax?", False),
        ("what about my bins?", False),
    ],
)
def test_a_follow_on_carries_on_unless_it_turns_away_from_the_guidance(searcher, message, continues):
    assert searcher.continues(message) is continues


def test_a_question_asking_whether_one_may_ranks_committee_reports_lower(searcher):
    unweighted = dataclasses.replace(searcher.weights, asking_report=0)
    plain = Searcher(searcher.index, searcher.vocabulary, unweighted)
    asking = "can I share the report's findings online early?"
    reports = np.array([p.document.kind == "report" for p in searcher.passages])
    lowered = plain.scores(asking).ranking - searcher.scores(asking).ranking
    assert np.allclose(lowered[reports], searcher.weights.asking_report) and np.allclose(lowered[~reports], 0)
    assert plain.search(asking, 1)[0].passage.document.kind == "report"  # a front sheet shares its words
    assert "do not write or report" in searcher.search(asking, 1)[0].passage.text.lower()
    telling = "what does the committee report say about facebook"
    assert np.array_equal(plain.scores(telling).ranking, searcher.scores(telling).ranking)


def test_words_the_guidance_never_uses_make_a_passage_less_relevant(searcher):
    assert searcher.unfamiliar("Can I post about the zeppelin race on Facebook?") == ["zeppelin", "race"]
    assert searcher.unfamiliar("what does Cambs say about posting on facebook") == []  # a council's name
    unweighted = dataclasses.replace(searcher.weights, unfamiliar_word=0)
    plain = Searcher(searcher.index, searcher.vocabulary, unweighted)
    question = "Can I post about the zeppelin race on Facebook?"
    lowered = plain.scores(question).relevance - searcher.scores(question).relevance
    assert np.allclose(lowered, 2 * searcher.weights.unfamiliar_word)
    assert np.array_equal(plain.scores(question).ranking, searcher.scores(question).ranking)
