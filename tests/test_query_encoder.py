"""The question encoder the servers use (bot/query_encoder.py): the index's model exported to
ONNX gives the model's own vectors and answers, is made once per model, and spares the action
server torch."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot import index, query_encoder, search
from bot.answer import answer
from bot.config import settings
from bot.evaluate import load_questions

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow  # loads the embedding model


@pytest.fixture(scope="module")
def reference(project_index):
    """The sentence-transformers model the project's index was built with."""
    return index.Encoder(settings(), project_index.manifest["encoder"])


def test_a_question_gets_the_models_own_vector(project_index, reference):
    assert isinstance(project_index.encoder, query_encoder.QueryEncoder)
    for text in ("Can I tweet after a drink?", "planning", "A gaf i drydar ar ôl yfed? 🍺 " * 40):
        np.testing.assert_allclose(
            project_index.encoder.encode_query(text), reference.encode([text]), atol=1e-5
        )


def test_the_development_set_gets_the_same_answers(project_index, reference):
    """Every development question, in scope or not, ranks the same first passages and quotes the
    same ones (or declines) with the exported encoder as with the model itself."""
    vocabulary = search.Vocabulary.load(settings().corpus_dir / search.VOCABULARY_FILE)
    fast = search.Searcher(project_index, vocabulary)
    slow = search.Searcher(index.load(encoder=reference), vocabulary)
    questions, out_of_scope = load_questions()

    def outcome(searcher, text):
        ranked = [hit.passage.id for hit in searcher.search(text, 3)]
        return ranked, [p.id for p in answer(searcher, text).reply().passages]

    for text in [q.text for q in questions] + out_of_scope:
        assert outcome(fast, text) == outcome(slow, text), text


def test_the_export_is_made_once_per_model(project_index, tmp_path):
    exported = Path(project_index.manifest["query_encoder"])
    assert query_encoder.problem(exported) is None
    details = json.loads((exported / query_encoder.COMPLETE).read_text())
    assert details["model"] == project_index.manifest["encoder"]
    copy = tmp_path / exported.name
    shutil.copytree(exported, copy)
    before = (copy / query_encoder.COMPLETE).stat().st_mtime_ns
    assert query_encoder.exported(project_index.manifest["encoder"], tmp_path) == copy  # reused
    assert (copy / query_encoder.COMPLETE).stat().st_mtime_ns == before


def test_the_action_server_answers_without_torch():
    """The actions, loaded as the action server loads them, with the project's index current (a
    server that had to rebuild its index has torch loaded, as building needs it)."""
    loaded = "import sys, actions.actions as a; a.searcher(); print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", loaded], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "False"
