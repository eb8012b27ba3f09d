"""The embedding model adapted to this corpus: the base sentence-transformers model fine-tuned on
(question, passage) pairs from the passage questions, so that councillors' wording lands next to
the passage that answers it.

Training is one pass of in-batch-negatives ranking loss (each question against every passage in
its batch, and against "no passage" at the cosine a passage must beat) with a fixed seed, so the
same corpus and base model give the same model. The questions the guidance does not answer
(corpus/not_covered.yml) share the batches with "no passage" as their right answer: they are
pushed below that cosine for every passage, which is what lets the search say "not covered"
for questions that merely sound like the guidance. The token
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
import time
from dataclasses import dataclass
from pathlib import Path

from bot import cached
from bot.corpus import Passage

log = logging.getLogger(__name__)

COMPLETE = "adapted.json"  # written last: a directory without it is unfinished


@dataclass(frozen=True)
class Training:
    """Chosen on the development questions (tests/data/questions.yml) with `bot eval`."""

    seed: int = 0
    epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 6e-5
    scale: float = 20.0  # cosine similarities times this are the logits of the ranking loss
    max_tokens: int = 128  # passages are cut to this many tokens while training
    chunk: int = 8  # texts embedded together while training (of similar length: less padding)
    frozen_layers: int = 3  # the token embeddings and this many lowest layers are not trained
    # The cosine a passage must beat to answer a question: a question the guidance does not
    # answer (corpus/not_covered.yml) is trained to stay below it for every passage, and a
    # passage question to reach it with its own passage. None trains on passage questions alone.
    none_below: float | None = 0.5


def pairs(passages: list[Passage]) -> list[tuple[str, str]]:
    """(question, passage as the index embeds it under its section) for every passage question."""
    from bot.index import keyword_text

    return [(question, keyword_text(p)) for p in passages for question in p.questions]


def fingerprint(
    base_model: str, passages: list[Passage], declined: list[str] = (), training: Training = Training()
) -> str:
    digest = hashlib.sha256()
    digest.update(base_model.encode())
    digest.update(json.dumps([pairs(passages), list(declined)], ensure_ascii=False).encode())
    digest.update(repr(training).encode())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()


def adapted(
    base_model: str,
    passages: list[Passage],
    cache: Path,
    declined: list[str] = (),
    training: Training = Training(),
) -> Path:
    """The directory of the adapted model, trained first unless the cache already holds it.
    `declined` are questions no passage answers (corpus/not_covered.yml)."""
    target = cache / fingerprint(base_model, passages, declined, training)[:16]
    if (target / COMPLETE).exists():
        return target
    staging = cached.staging(cache, ".adapting-")
    started = time.perf_counter()
    count = train(base_model, pairs(passages), list(declined), staging, training)
    seconds = round(time.perf_counter() - started, 1)
    (staging / COMPLETE).write_text(
        json.dumps({"base_model": base_model, "pairs": count, "seconds": seconds})
    )
    cached.publish(staging, target)
    log.info("embedding model adapted on %d questions in %.0fs", count, seconds)
    return target


def embed(model, texts: list[str], chunk: int):
    """The texts' normalised vectors from a sentence-transformers model, embedded `chunk` at a
    time in order of length, so that a short text is not padded to the longest of them all: the
    same vectors, and while training in under half the time."""
    import torch

    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    chunks = [order[i : i + chunk] for i in range(0, len(order), chunk)]
    vectors = torch.cat([model(model.tokenize([texts[i] for i in c]))["sentence_embedding"] for c in chunks])
    vectors = vectors[torch.argsort(torch.tensor([i for c in chunks for i in c]))]
    return torch.nn.functional.normalize(vectors, dim=1)


def train(
    base_model: str, examples: list[tuple[str, str]], declined: list[str], out: Path, training: Training
) -> int:
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

    model.train()
    batches = -(-len(examples) // training.batch_size)
    for epoch in range(training.epochs):
        order, unanswered = examples[:], declined[:] if training.none_below is not None else []
        random.Random(training.seed + epoch).shuffle(order)
        random.Random(training.seed + epoch).shuffle(unanswered)
        for number in range(batches):
            batch = order[number * training.batch_size : (number + 1) * training.batch_size]
            questions, passages = zip(*batch)
            # This batch's share of the questions no passage answers.
            extra = unanswered[
                number * len(unanswered) // batches : (number + 1) * len(unanswered) // batches
            ]
            logits = (
                embed(model, [*questions, *extra], training.chunk)
                @ embed(model, list(passages), training.chunk).T
                * training.scale
            )
            # Another question of the same passage in the batch is not a wrong answer.
            same = torch.zeros(logits.shape, dtype=torch.bool)
            same[: len(batch)] = torch.tensor([[a == b for b in passages] for a in passages])
            same[: len(batch)].fill_diagonal_(False)
            logits = logits.masked_fill(same, float("-inf"))
            targets = torch.arange(len(batch))
            if training.none_below is not None:
                # One more column, "no passage", at the cosine a passage must beat: the right
                # answer for the questions no passage answers.
                none = torch.full((len(logits), 1), training.none_below * training.scale)
                logits = torch.cat([logits, none], dim=1)
                targets = torch.cat([targets, torch.full((len(extra),), len(batch))])
            loss = torch.nn.functional.cross_entropy(logits, targets)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    model.eval()
    model.max_seq_length = kept_length
    model.save(str(out))
    return len(examples)
