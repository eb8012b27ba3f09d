"""The embedding model adapted to the corpus (bot/adapt.py): deterministic, cached, and used."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot import adapt, index
from bot.config import settings

EXAMPLES = [
    ("can I tweet after a few drinks?", "Do not post in haste or when you have consumed alcohol."),
    (
        "is it ok to say how I'll vote on a planning application?",
        "Do not say anything that suggests you have made your mind up.",
    ),
    ("a resident keeps abusing me online", "Report abuse and harassment to the police if it is threatening."),
    ("can I post photos of residents?", "Ask permission before you post a photograph of someone."),
]
# Questions no passage answers, trained to stay below `none_below` for every passage.
DECLINED = ["how much does it cost to boost a post?", "when are the bins collected?"]
TINY = adapt.Training(epochs=1, batch_size=2, learning_rate=1e-4, frozen_layers=5)

pytestmark = pytest.mark.slow  # fine-tunes and loads embedding models


def embed(path, texts):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(path), device="cpu").encode(texts, normalize_embeddings=True)


def test_training_twice_on_the_same_pairs_gives_the_same_model(tmp_path):
    base = settings().model_path()
    first, second = tmp_path / "first", tmp_path / "second"
    assert adapt.train(base, EXAMPLES, DECLINED, first, TINY) == len(EXAMPLES)
    adapt.train(base, EXAMPLES, DECLINED, second, TINY)
    probe = ["may I share a photo from the council meeting?", "deleting rude comments"]
    one, two, plain = embed(first, probe), embed(second, probe), embed(base, probe)
    assert np.array_equal(one, two)
    assert not np.allclose(one, plain, atol=1e-4)  # it did learn something


def test_the_project_index_is_built_with_the_adapted_model(project_index):
    """The index records the adapted model it was built with, and queries use the same one."""
    path = Path(project_index.manifest["encoder"])
    assert settings().adapt_model and path.parent.name == index.ADAPTED
    assert json.loads((path / adapt.COMPLETE).read_text())["pairs"] > 500
    assert project_index.encoder.model == str(path)  # its ONNX export (bot/query_encoder.py)


@pytest.mark.parametrize("change", ["questions", "training"])
def test_a_change_of_questions_or_training_changes_the_fingerprint(project_index, change):
    passages = project_index.passages
    before = adapt.fingerprint("base", passages)
    if change == "questions":
        passages = [replace(passages[0], questions=passages[0].questions + ("one more?",)), *passages[1:]]
        assert adapt.fingerprint("base", passages) != before
    else:
        assert adapt.fingerprint("base", passages, training=adapt.Training(seed=1)) != before


def test_a_change_of_the_questions_no_passage_answers_changes_the_fingerprint(project_index):
    passages = project_index.passages
    assert adapt.fingerprint("base", passages, ["when are the bins collected?"]) != adapt.fingerprint(
        "base", passages, ["how do I renew my parking permit?"]
    )


def test_questions_no_passage_answers_are_trained_away_from_the_passages(tmp_path):
    """With the "no passage" column, the questions no passage answers end further below the
    passage questions' own passages than when training sees passage questions alone: the gap a
    threshold can fall into is wider."""
    base = settings().model_path()
    strong = adapt.Training(epochs=3, batch_size=4, learning_rate=1e-4, frozen_layers=3)
    with_declined, without = tmp_path / "with", tmp_path / "without"
    adapt.train(base, EXAMPLES, DECLINED, with_declined, strong)
    adapt.train(base, EXAMPLES, DECLINED, without, replace(strong, none_below=None))
    questions, passages = zip(*EXAMPLES)

    def gap(path):
        answered = (embed(path, questions) * embed(path, passages)).sum(axis=1).min()
        declined = (embed(path, DECLINED) @ embed(path, passages).T).max()
        return answered - declined

    assert gap(with_declined) > gap(without)


def test_embedding_a_few_texts_at_a_time_gives_the_vectors_of_one_batch():
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(settings().model_path(), device="cpu")
    texts = [question for question, _ in EXAMPLES] + [passage for _, passage in EXAMPLES] + ["fb?"]
    with torch.no_grad():
        whole = torch.nn.functional.normalize(model(model.tokenize(texts))["sentence_embedding"], dim=1)
        for chunk in (1, 3, len(texts)):
            assert torch.allclose(adapt.embed(model, texts, chunk), whole, atol=1e-5), chunk
