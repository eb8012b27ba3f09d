"""The index: built from the corpus, searched by meaning, rebuilt only when it must be."""

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from bot import index, query_encoder
from bot.config import settings

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@pytest.fixture(scope="module")
def indexes(tmp_path_factory):
    """One directory for the tests' indexes, so that they share the model's ONNX export."""
    return tmp_path_factory.mktemp("indexes")


@pytest.fixture
def config(tmp_path, indexes):
    shutil.copytree(CORPUS, tmp_path / "corpus")
    return dataclasses.replace(
        settings(), corpus_dir=tmp_path / "corpus", index_dir=indexes / tmp_path.name, adapt_model=False
    )


@pytest.fixture
def built(config, encoder):
    index.build(config, encoder)
    return config


def test_search_ranks_passages_by_meaning(project_index):
    hits = project_index.search(
        "Can I tweet my view on a planning application before the committee decides?", 5
    )
    assert len(hits) == 5
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(-1.0 <= s <= 1.0 for s in scores)
    assert (
        "predetermination" in hits[0].passage.section_path.lower()
        or "made your mind up" in hits[0].passage.text
    )


def test_unrelated_questions_score_lower(project_index):
    relevant = project_index.search("Can I post on Facebook after drinking alcohol?", 1)[0].score
    unrelated = project_index.search("What time does the recycling centre open on Sunday?", 1)[0].score
    assert relevant > unrelated + 0.2


def test_index_persists_and_is_current_after_build(built, encoder):
    assert index.problem(built) is None
    manifest = json.loads((built.index_dir / index.MANIFEST).read_text())
    loaded = index.load(built, encoder)
    assert len(loaded.passages) == manifest["passages"]
    views = len(index.view_owners(loaded.passages)[1])
    assert views > len(loaded.passages)  # every passage has at least one view
    assert loaded.vectors.ntotal == views + manifest["not_covered"] == len(loaded.owners)


def test_unchanged_corpus_is_not_rebuilt(built):
    before = (built.index_dir / index.MANIFEST).read_text()
    assert index.ensure_built(built) == (False, None)
    assert (built.index_dir / index.MANIFEST).read_text() == before


def test_changed_corpus_is_rebuilt(built, encoder):
    metadata = built.corpus_dir / "documents.yml"
    metadata.write_text(metadata.read_text().replace("status: draft", "status: adopted"))
    assert index.problem(built) == "the corpus, the parser or the model has changed"
    loaded = index.load(built, encoder)
    assert index.problem(built) is None
    assert any(p.document.status == "adopted" for p in loaded.passages)


def test_changed_model_is_rebuilt(built):
    other = dataclasses.replace(built, model="/some/other/model")
    assert index.problem(other) == "the corpus, the parser or the model has changed"


@pytest.mark.parametrize("damaged", [index.VECTORS, index.PASSAGES])
def test_damaged_index_is_detected_and_rebuilt(built, encoder, damaged):
    path = built.index_dir / damaged
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])  # a half-written file
    assert index.problem(built) == f"{damaged} is missing or damaged"
    loaded = index.load(built, encoder)
    assert index.problem(built) is None
    assert loaded.search("copyright of photos", 1)[0].passage.text


def test_unreadable_manifest_is_rebuilt(built, encoder):
    (built.index_dir / index.MANIFEST).write_text("{not json")
    assert index.problem(built) == "the index manifest is unreadable"
    index.load(built, encoder)
    assert index.problem(built) is None


def test_empty_question_finds_nothing(project_index):
    assert project_index.search("   ", 5) == []


def test_a_question_is_encoded_as_the_index_encodes_text(encoder):
    for text in ("Can I tweet after a drink?", "planning", "A gaf i drydar ar ôl yfed? 🍺 " * 40):
        np.testing.assert_allclose(encoder.encode_query(text), encoder.encode([text]), atol=1e-5)


def test_damaged_question_encoder_is_detected_and_exported_again(built, encoder):
    manifest = json.loads((built.index_dir / index.MANIFEST).read_text())
    model = Path(manifest["query_encoder"]) / query_encoder.MODEL
    model.write_bytes(model.read_bytes()[:1000])
    assert index.problem(built) == "the question encoder is damaged"
    index.load(built, encoder)
    assert index.problem(built) is None
