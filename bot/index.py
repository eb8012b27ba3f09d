"""The passage index: normalised sentence embeddings in a FAISS inner-product index.

The index lives on disk beside the passages it was built from. A fingerprint of the corpus
files, the parser and the model decides whether it is current; a checksum of every file
decides whether it is intact. A stale, missing or damaged index is rebuilt, never served.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from bot import query_encoder
from bot.cached import checksum
from bot.config import Settings, apply_environment_defaults, settings
from bot.corpus import (
    METADATA_FILE,
    NOT_COVERED_FILE,
    QUESTIONS_FILE,
    Council,
    Document,
    Passage,
    load_corpus,
)

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
PASSAGES = "passages.json"
VECTORS = "passages.faiss"
# Files whose change means the passages may change.
_CODE = [Path(__file__).with_name(name) for name in ("corpus.py", "adapt.py", "query_encoder.py", "index.py")]
ADAPTED = "adapted-model"  # beside the index directory: the adapted models, by fingerprint
QUESTIONS_REMEMBERED = 256  # the questions whose embeddings are kept, most recent first
QUERY_ENCODER = "query-encoder"  # beside the index directory: the model exported to ONNX, by fingerprint


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float  # the ranking score
    relevance: float | None = None  # whether it answers at all (bot.search.Scores); else score

    def __post_init__(self):
        if self.relevance is None:
            object.__setattr__(self, "relevance", self.score)


def fingerprint(config: Settings) -> str:
    """A hash of everything the index is built from: corpus files, parser and model."""
    digest = hashlib.sha256()
    for path in sorted(config.corpus_dir.iterdir()):
        if path.is_file() and (
            path.suffix == ".txt" or path.name in (METADATA_FILE, QUESTIONS_FILE, NOT_COVERED_FILE)
        ):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    for path in _CODE:
        digest.update(path.read_bytes())
    digest.update(config.model.encode())
    digest.update(b"adapted" if config.adapt_model else b"plain")
    return digest.hexdigest()


def keyword_text(passage: Passage) -> str:
    """The passage with its section path, so headings count too."""
    return f"{passage.section_path}: {passage.text}"


def keyword_document(passage: Passage) -> str:
    """What keyword search sees: the passage under its section path, and the questions it
    answers (so a member's words count where a councillor's question uses them)."""
    return " ".join([keyword_text(passage), *passage.questions])


def views(passage: Passage) -> list[str]:
    """The texts embedded for one passage. A passage scores as its best view: the text alone,
    the text under its section path (so a short bullet is found by its heading), each sentence
    of a longer passage (so one sentence is not drowned by the rest), and each question it
    answers (so a member's wording meets the question it resembles)."""
    texts = [passage.text, keyword_text(passage)]
    sentences = [s for s in re.split(r"(?<=[.!?;])\s+", passage.text) if len(s.split()) >= 3]
    if len(sentences) > 1:
        texts += sentences
    return texts + list(passage.questions)


def view_owners(passages: list[Passage]) -> tuple[list[str], np.ndarray]:
    texts, owners = [], []
    for i, passage in enumerate(passages):
        for text in views(passage):
            texts.append(text)
            owners.append(i)
    return texts, np.array(owners, dtype="int64")


def question_rows(passages: list[Passage]) -> np.ndarray:
    """Which rows of the index are questions a passage answers (the last views of each)."""
    rows = []
    for passage in passages:
        count = len(views(passage))
        rows += [False] * (count - len(passage.questions)) + [True] * len(passage.questions)
    return np.array(rows, dtype=bool)


@dataclass(frozen=True)
class Dense:
    """A question's cosine similarity to every passage (its best view), in passage order; to the
    closest of the questions the passages answer; and to the closest of the questions the
    guidance does not answer (corpus/not_covered.yml)."""

    scores: np.ndarray
    nearest_question: float
    nearest_not_covered: float | None = None  # None if there are none


class Encoder:
    """The sentence-transformers model, loaded once: the configured one, or `path` (the model
    adapted to the corpus that an index was built with). It embeds the passages when the index
    is built; the servers encode questions with its ONNX export (bot/query_encoder.py)."""

    def __init__(self, config: Settings, path: str | None = None):
        apply_environment_defaults()
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()

        self.path = path or config.model_path()
        self.model = SentenceTransformer(self.path, device="cpu")
        self.model.eval()

    def common_words(self) -> set[str]:
        """Whole, alphabetic words of the model's tokenizer vocabulary (empty if it has none)."""
        vocab = getattr(self.model.tokenizer, "get_vocab", dict)()
        return {w for w in vocab if w.isalpha() and w.islower() and len(w) > 1}

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = self.model.encode(
            texts,
            batch_size=32,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype="float32")

    def encode_query(self, text: str) -> np.ndarray:
        """One question's vector, as `encode([text])` gives it, without the set-up that
        `SentenceTransformer.encode` repeats on every call (moving the model to its device and
        into evaluation mode, done once above: a fifth of the time for a short question)."""
        import torch

        features = self.model.preprocess([text])
        with torch.inference_mode():
            vector = self.model(features)["sentence_embedding"]
            vector = torch.nn.functional.normalize(vector, p=2, dim=1)
        return vector.numpy().astype("float32")


class Index:
    def __init__(
        self, passages: list[Passage], vectors, encoder: Encoder | query_encoder.QueryEncoder, manifest: dict
    ):
        self.passages = passages
        # faiss.IndexFlatIP: one row per view of a passage, then one per not-covered question.
        self.vectors = vectors
        not_covered = manifest.get("not_covered", 0)
        view_rows = view_owners(passages)[1]  # row -> passage; a passage's views are consecutive
        self.owners = np.concatenate([view_rows, np.full(not_covered, -1)])
        self.question_rows = np.concatenate([question_rows(passages), np.zeros(not_covered, dtype=bool)])
        # Every row at once: one product with all the vectors costs less than a search that sorts.
        self.matrix = vectors.reconstruct_n(0, vectors.ntotal)
        self.view_count = len(view_rows)
        self.first_views = np.flatnonzero(np.diff(view_rows, prepend=-1))  # each passage's first row
        self.encoder = encoder
        self.manifest = manifest
        self.councils = {p.document.council.key: p.document.council for p in passages}
        self._by_id = {p.id: p for p in passages}

    # The search and its scope check ask about the same question, and the action server embeds
    # each message ahead of its question (Searcher.embed_ahead).
    @lru_cache(maxsize=QUESTIONS_REMEMBERED)
    def dense(self, question: str) -> Dense:
        similarities = self.matrix @ self.encoder.encode_query(question)[0]
        scores = np.maximum.reduceat(similarities[: self.view_count], self.first_views)
        scores.setflags(write=False)
        asked = similarities[self.question_rows]
        declined = similarities[self.view_count :]
        return Dense(
            scores,
            float(asked.max()) if len(asked) else -1.0,
            float(declined.max()) if len(declined) else None,
        )

    def dense_scores(self, question: str) -> np.ndarray:
        """Cosine similarity of the question to every passage (its best view), in passage order."""
        return self.dense(question).scores

    def search(self, question: str, k: int = 5) -> list[Hit]:
        """The k passages closest in meaning to the question, best first (dense only)."""
        if not question.strip():
            return []
        scores = self.dense_scores(question)
        return [Hit(self.passages[i], float(scores[i])) for i in np.argsort(-scores)[:k]]

    def by_id(self, passage_id: str) -> Passage | None:
        return self._by_id.get(passage_id)


# --------------------------------------------------------------------------- build and load


def _serialise(passages: list[Passage]) -> list[dict]:
    return [
        {
            "id": p.id,
            "document": {**asdict(p.document), "council": asdict(p.document.council)},
            "section": list(p.section),
            "text": p.text,
            "lines": list(p.lines),
            "heading_depth": p.heading_depth,
            "questions": list(p.questions),
        }
        for p in passages
    ]


def _deserialise(rows: list[dict]) -> list[Passage]:
    passages, documents = [], {}
    for row in rows:
        doc = row["document"]
        if doc["id"] not in documents:
            council = Council(**{**doc["council"], "aliases": tuple(doc["council"].get("aliases", ()))})
            documents[doc["id"]] = Document(**{**doc, "council": council})
        passages.append(
            Passage(
                row["id"],
                documents[doc["id"]],
                tuple(row["section"]),
                row["text"],
                tuple(row["lines"]),
                row["heading_depth"],
                tuple(row.get("questions", ())),
            )
        )
    return passages


def build(config: Settings | None = None, encoder: Encoder | None = None) -> dict:
    """Parse the corpus, embed every passage and write the index atomically. Returns the manifest."""
    import faiss

    config = config or settings()
    started = time.perf_counter()
    corpus = load_corpus(config.corpus_dir)
    encoder = encoder or Encoder(config, embedding_model(config, corpus.passages, corpus.not_covered))
    vectors = encoder.encode(view_owners(corpus.passages)[0] + corpus.not_covered)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    questions = query_encoder.exported(encoder.path, config.index_dir.parent / QUERY_ENCODER)

    config.index_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".index-", dir=config.index_dir.parent))
    staging.chmod(0o755)
    (staging / PASSAGES).write_text(
        json.dumps(_serialise(corpus.passages), ensure_ascii=False, indent=1), encoding="utf-8"
    )
    faiss.write_index(index, str(staging / VECTORS))
    manifest = {
        "fingerprint": fingerprint(config),
        "model": config.model,
        "encoder": encoder.path,
        "encoder_checksum": _model_checksum(encoder.path),
        "query_encoder": str(questions),
        "dimensions": int(vectors.shape[1]),
        "passages": len(corpus.passages),
        "not_covered": len(corpus.not_covered),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "build_seconds": round(time.perf_counter() - started, 2),
        "checksums": {name: checksum(staging / name) for name in (PASSAGES, VECTORS)},
    }
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    # Swap the finished index into place; a crash before this leaves the old one untouched.
    old = config.index_dir.with_name(config.index_dir.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if config.index_dir.exists():
        config.index_dir.rename(old)
    staging.rename(config.index_dir)
    shutil.rmtree(old, ignore_errors=True)
    log.info("index built: %d passages in %.1fs", len(corpus.passages), manifest["build_seconds"])
    return manifest


def embedding_model(config: Settings, passages: list[Passage], declined: list[str] = ()) -> str:
    """The model to embed with: the configured one adapted to the corpus (bot/adapt.py), or the
    configured one as it is when BOT_ADAPT_MODEL is off."""
    if not config.adapt_model:
        return config.model_path()
    from bot import adapt

    return str(adapt.adapted(config.model_path(), passages, config.index_dir.parent / ADAPTED, declined))


def _model_checksum(path: str) -> str | None:
    """The checksum of a model's weights, if it is a directory of this project's (an adapted
    model); the configured model belongs to its package and is not checked."""
    weights = Path(path) / "model.safetensors"
    return checksum(weights) if weights.exists() and ADAPTED in Path(path).parts else None


def problem(config: Settings | None = None) -> str | None:
    """Why the index on disk cannot be served as it is, or None when it is current and intact."""
    config = config or settings()
    manifest_path = config.index_dir / MANIFEST
    if not manifest_path.exists():
        return "no index has been built"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        checksums = manifest["checksums"]
    except (ValueError, KeyError, TypeError):
        return "the index manifest is unreadable"
    if manifest.get("fingerprint") != fingerprint(config):
        return "the corpus, the parser or the model has changed"
    for name in (PASSAGES, VECTORS):
        path = config.index_dir / name
        if not path.exists() or checksum(path) != checksums.get(name):
            return f"{name} is missing or damaged"
    encoder = manifest.get("encoder")
    if not encoder or (manifest.get("encoder_checksum") and not Path(encoder).is_dir()):
        return "the embedding model it was built with is missing"
    if manifest.get("encoder_checksum") and _model_checksum(encoder) != manifest["encoder_checksum"]:
        return "the embedding model it was built with is damaged"
    if not manifest.get("query_encoder"):
        return "the question encoder has not been exported"
    return query_encoder.problem(Path(manifest["query_encoder"]))


def ensure_built(config: Settings | None = None) -> tuple[bool, str | None]:
    """Build the index if it is missing, stale or damaged. Returns (rebuilt, reason)."""
    config = config or settings()
    reason = problem(config)
    if reason:
        log.warning("rebuilding the index: %s", reason)
        build(config)
    return bool(reason), reason


def load(config: Settings | None = None, encoder: Encoder | None = None) -> Index:
    """The current index, rebuilt first if it is missing, stale or damaged, with its question
    encoder (or `encoder`)."""
    import faiss

    config = config or settings()
    ensure_built(config)
    manifest = json.loads((config.index_dir / MANIFEST).read_text(encoding="utf-8"))
    passages = _deserialise(json.loads((config.index_dir / PASSAGES).read_text(encoding="utf-8")))
    vectors = faiss.read_index(str(config.index_dir / VECTORS))
    encoder = encoder or query_encoder.QueryEncoder(manifest["query_encoder"])
    index = Index(passages, vectors, encoder, manifest)
    if vectors.ntotal != len(index.owners):
        raise RuntimeError(f"{config.index_dir}: {vectors.ntotal} vectors do not match the passages")
    return index


def load_passages(config: Settings | None = None) -> list[Passage]:
    """The passages of the index on disk, without its vectors or model: for processes that quote
    passages but never search (the page server's training sessions)."""
    config = config or settings()
    return _deserialise(json.loads((config.index_dir / PASSAGES).read_text(encoding="utf-8")))
