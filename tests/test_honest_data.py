"""The data files the search learns from do not copy the questions it is measured on.

The development sets (tests/data/questions.yml, questions2.yml) are for tuning and the held-out set
(tests/data/heldout.yml) is never tuned on; none may leak into the passage questions
(corpus/passage_questions.yml), the questions the guidance does not answer
(corpus/not_covered.yml) or the vocabulary (corpus/vocabulary.yml), or the measures would only
say how well the assistant remembers them.
"""

import numpy as np
import pytest

from bot import evaluate
from bot.config import settings
from bot.corpus import load_corpus
from bot.datafile import read_yaml
from bot.search import VOCABULARY_FILE, stem_all, stems, words

SETS = {
    "development": evaluate.DEFAULT_QUESTIONS,
    "second development": evaluate.SECOND_QUESTIONS,
    "held-out": evaluate.HELD_OUT,
}


def asked(path):
    questions, out_of_scope = evaluate.load_questions(path)
    return [q.text for q in questions] + list(out_of_scope)


def golds():
    return [g for path in SETS.values() for q in evaluate.load_questions(path)[0] for g in q.gold]


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(settings().corpus_dir)


@pytest.fixture(scope="module")
def passage_questions(corpus):
    return [q for p in corpus.passages for q in p.questions]


@pytest.fixture(scope="module")
def written(corpus, passage_questions):
    """The questions written for the data files."""
    return passage_questions + corpus.not_covered


@pytest.fixture(scope="module")
def vocabulary():
    return read_yaml(settings().corpus_dir / VOCABULARY_FILE)


def bag(text):
    return tuple(sorted(words(text)))


@pytest.mark.parametrize("name", SETS)
def test_no_measured_question_or_reordering_of_one_is_in_a_data_file(name, written):
    bags = {bag(q) for q in written}
    copied = [q for q in asked(SETS[name]) if bag(q) in bags]
    assert copied == [], f"{name} questions in the data files"


@pytest.mark.slow  # embeds every measured and passage question
@pytest.mark.parametrize("name", SETS)
def test_no_written_question_is_a_near_copy_of_a_measured_one(name, written):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(settings().model_path(), device="cpu")  # the plain model
    measured = asked(SETS[name])
    a = model.encode(measured, normalize_embeddings=True, batch_size=64)
    b = model.encode(written, normalize_embeddings=True, batch_size=64)
    similar = a @ b.T
    rows, cols = np.nonzero(similar >= 0.9)
    pairs = [(measured[i], written[j], round(float(similar[i, j]), 3)) for i, j in zip(rows, cols)]
    assert pairs == [], f"near copies (cosine >= 0.9) of {name} questions in the data files"


def runs_of(text, n=3):
    tokens = stem_all(words(text))
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def test_no_vocabulary_entry_adds_three_words_of_an_expected_phrase(vocabulary):
    gold_runs = set().union(*(runs_of(g) for g in golds()))
    leaking = {
        phrase: added for phrase, added in vocabulary["synonyms"].items() if runs_of(added) & gold_runs
    }
    assert leaking == {}


def test_no_vocabulary_entry_maps_a_word_to_itself(vocabulary):
    itself = [
        p for p, added in vocabulary["synonyms"].items() if set(stems(words(added))) <= set(stems(words(p)))
    ]
    assert itself == []


def test_every_vocabulary_entry_fires_on_a_development_or_passage_question(vocabulary, passage_questions):
    """An entry that no question uses is there for nothing (or for a held-out question)."""
    texts = asked(evaluate.DEFAULT_QUESTIONS) + passage_questions
    stemmed = [" " + " ".join(stem_all(words(t))) + " " for t in texts]
    idle = [
        phrase
        for phrase in vocabulary["synonyms"]
        if not any(f" {' '.join(stem_all(words(phrase)))} " in t for t in stemmed)
    ]
    assert idle == []
