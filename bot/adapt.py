"""The embedding model adapted to this corpus: the base sentence-transformers model fine-tuned on
(question, passage) pairs from the passage questions, so that councillors' wording lands next to
the passage that answers it.

Training is one pass of in-batch-negatives ranking loss (each question against every passage in
its batch) with a fixed seed, so the same corpus and base model give the same model. The token
embeddings and the lower layers stay as they were, which keeps the build to a couple of minutes
on two cores and keeps the general language the base model knows. The result is cached beside the
index, under a fingerprint of everything it is trained from, and reused until one of them
changes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bot.corpus import Passage

log = logging.getLogger(__name__)

COMPLETE = "adapted.json"  # written last: a directory without it is unfinished


@dataclass(frozen=True)
class Training:
    """Chosen on the development questions (tests/data/questions.yml) with `bot eval`."""

    seed: int = 0
    epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 2e-5
    scale: float = 20.0  # cosine similarities times this are the logits of the ranking loss
    max_tokens: int = 128  # passages are cut to this many tokens while training
    frozen_layers: int = 3  # the token embeddings and this many lowest layers are not trained


def pairs(passages: list[Passage]) -> list[tuple[str, str]]:
    """(question, passage as the index embeds it under its section) for every passage question."""
    from bot.index import keyword_text

    return [(question, keyword_text(p)) for p in passages for question in p.questions]


def fingerprint(base_model: str, passages: list[Passage], training: Training = Training()) -> str:
    digest = hashlib.sha256()
    digest.update(base_model.encode())
    digest.update(json.dumps(pairs(passages), ensure_ascii=False).encode())
    digest.update(repr(training).encode())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()


def adapted(base_model: str, passages: list[Passage], cache: Path, training: Training = Training()) -> Path:
    """The directory of the adapted model, trained first unless the cache already holds it."""
    target = cache / fingerprint(base_model, passages, training)[:16]
    if (target / COMPLETE).exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".adapting-", dir=cache))
    started = time.perf_counter()
    count = train(base_model, pairs(passages), staging, training)
    seconds = round(time.perf_counter() - started, 1)
    (staging / COMPLETE).write_text(
        json.dumps({"base_model": base_model, "pairs": count, "seconds": seconds})
    )
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    for old in cache.iterdir():  # models of earlier corpora are not needed any more
        if old != target:
            shutil.rmtree(old, ignore_errors=True)
    log.info("embedding model adapted on %d questions in %.0fs", count, seconds)
    return target


def train(base_model: str, examples: list[tuple[str, str]], out: Path, training: Training) -> int:
    import torch
    from huggingface_hub.utils import disable_progress_bars
    from sentence_transformers import SentenceTransformer

    disable_progress_bars()
    torch.manual_seed(training.seed)
    model = SentenceTransformer(base_model, device="cpu")
    model.max_seq_length, kept_length = training.max_tokens, model.max_seq_length
    transformer = model[0].auto_model
    frozen = [transformer.embeddings, *transformer.encoder.layer[: training.frozen_layers]]
    for part in frozen:
        for parameter in part.parameters():
            parameter.requires_grad = False
    optimiser = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=training.learning_rate
    )

    def embed(texts: list[str]):
        return torch.nn.functional.normalize(model(model.tokenize(texts))["sentence_embedding"], dim=1)

    model.train()
    for epoch in range(training.epochs):
        order = examples[:]
        random.Random(training.seed + epoch).shuffle(order)
        for start in range(0, len(order), training.batch_size):
            batch = order[start : start + training.batch_size]
            questions, passages = zip(*batch)
            logits = embed(list(questions)) @ embed(list(passages)).T * training.scale
            # Another question of the same passage in the batch is not a wrong answer.
            same = torch.tensor([[a == b for b in passages] for a in passages])
            logits = logits.masked_fill(same & ~torch.eye(len(batch), dtype=torch.bool), float("-inf"))
            loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(batch)))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    model.eval()
    model.max_seq_length = kept_length
    model.save(str(out))
    return len(examples)
