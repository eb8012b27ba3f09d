"""The question encoder the servers use: the index's sentence-transformers model exported to ONNX
and run by ONNX Runtime, with the model's own tokenizer, so that answering a question loads
neither torch nor transformers.

The whole model is exported (transformer, pooling and normalisation), in full precision, so a
question's vector is the one the model gives, to within rounding (tests/test_query_encoder.py
checks that the rankings of the development set are unchanged). A quantised (int8) export was
three times faster again, but moved some questions' vectors to a cosine of 0.93 from the
model's, which changes answers. The export is made at `make index` time and cached beside the
index under a fingerprint of the model's files and this code, and reused until one changes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import warnings
from pathlib import Path

import numpy as np

from bot import cached

log = logging.getLogger(__name__)

MODEL = "model.onnx"
TOKENIZER = "tokenizer.json"
COMPLETE = "exported.json"  # written last: a directory without it is unfinished


def fingerprint(model_dir: Path) -> str:
    """A hash of every file of the model (weights, tokenizer, pooling settings) and of this code."""
    digest = hashlib.sha256()
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(model_dir)).encode())
        digest.update(path.read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()


def exported(model_dir: str | Path, cache: Path) -> Path:
    """The directory of the model's ONNX export, made first unless the cache holds it intact."""
    model_dir = Path(model_dir)
    target = cache / fingerprint(model_dir)[:16]
    if problem(target) is None:
        return target
    staging = cached.staging(cache, ".exporting-")
    staging.chmod(0o755)
    details = export(model_dir, staging)
    (staging / COMPLETE).write_text(
        json.dumps({**details, "checksum": cached.checksum(staging / MODEL)}, indent=1)
    )
    cached.publish(staging, target)
    log.info("question encoder exported to %s", target)
    return target


def problem(directory: Path) -> str | None:
    """Why an export cannot be used as it is, or None when it is complete and intact."""
    try:
        details = json.loads((directory / COMPLETE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "the question encoder has not been exported"
    if not (directory / TOKENIZER).exists() or cached.checksum(directory / MODEL) != details.get("checksum"):
        return "the question encoder is damaged"
    return None


def export(model_dir: Path, out: Path) -> dict:
    """Writes the model as ONNX (token ids in, normalised sentence vector out) and its tokenizer."""
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    model = SentenceTransformer(str(model_dir), device="cpu")
    model.eval()
    features = model.preprocess(["Can I comment on a planning application on Facebook?"])
    example = {name: value for name, value in features.items() if isinstance(value, torch.Tensor)}
    settings = {name: value for name, value in features.items() if name not in example}  # "modality"
    inputs = list(example)

    class Sentence(torch.nn.Module):
        """The model with the token tensors as arguments, as an exported graph takes them."""

        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, *tensors):
            return self.model({**settings, **dict(zip(inputs, tensors))})["sentence_embedding"]

    axes = {name: {0: "batch", 1: "tokens"} for name in inputs}
    # The tracer warns that the model's Python conditions on shapes are fixed in the graph: for
    # one question at a time (no padding) they hold whatever its length.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Sentence(),
            tuple(example.values()),
            str(out / MODEL),
            dynamo=False,
            input_names=inputs,
            output_names=["sentence_embedding"],
            dynamic_axes={**axes, "sentence_embedding": {0: "batch"}},
            opset_version=17,
        )
    shutil.copy(model_dir / TOKENIZER, out / TOKENIZER)
    return {"model": str(model_dir), "inputs": inputs, "max_tokens": model.max_seq_length}


class QueryEncoder:
    """One question at a time through ONNX Runtime, as the sentence-transformers model encodes it."""

    def __init__(self, directory: str | Path):
        import onnxruntime
        from tokenizers import Tokenizer

        self.path = str(directory)
        details = json.loads((Path(directory) / COMPLETE).read_text(encoding="utf-8"))
        self.model = details["model"]  # the sentence-transformers model it was exported from
        self.inputs = details["inputs"]
        self.tokenizer = Tokenizer.from_file(str(Path(directory) / TOKENIZER))
        self.tokenizer.enable_truncation(details["max_tokens"])
        self.tokenizer.no_padding()
        options = onnxruntime.SessionOptions()
        # ONNX Runtime ignores OMP_NUM_THREADS, which sets torch's threads (scripts/run.sh): follow it.
        threads = int(os.environ.get("OMP_NUM_THREADS") or 0)
        options.intra_op_num_threads = options.inter_op_num_threads = threads
        self.session = onnxruntime.InferenceSession(
            str(Path(directory) / MODEL), options, providers=["CPUExecutionProvider"]
        )

    def common_words(self) -> set[str]:
        """Whole, alphabetic words of the tokenizer's vocabulary."""
        return {w for w in self.tokenizer.get_vocab() if w.isalpha() and w.islower() and len(w) > 1}

    def encode_query(self, text: str) -> np.ndarray:
        encoding = self.tokenizer.encode(text)
        features = {
            "input_ids": encoding.ids,
            "attention_mask": encoding.attention_mask,
            "token_type_ids": encoding.type_ids,
        }
        feed = {name: np.array([features[name]], dtype="int64") for name in self.inputs}
        return self.session.run(None, feed)[0].astype("float32")
