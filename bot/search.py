"""Hybrid retrieval: sentence embeddings (dense) and BM25 (keywords), fused.

A question is first put into the guidance's own words: the vocabulary in
`corpus/vocabulary.yml` adds the words the documents use ("fb" adds "facebook", "drunk" adds
"alcohol"), and words the corpus does not know are matched to close ones ("planing" ->
"planning"). Both retrievers score every passage (the dense one on its text and on the
questions it answers, corpus/passage_questions.yml); passages are ranked by

    weight * cosine + (1 - weight) * bm25 / (bm25 + saturation)

The saturating transform puts BM25 on the cosine's fixed 0-1 scale. Whether the best passage
answers the question at all is decided by its cosine (its relevance, adjusted as Weights
says), against one threshold: shared words make a passage rank higher, but not relevant. The weight,
the saturation and the threshold were chosen on tests/data/questions.yml with `bot eval`.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from bot.config import Settings, settings
from bot.corpus import Council, normalise
from bot.datafile import CorpusError, line_of, read_yaml
from bot.index import QUESTIONS_REMEMBERED, Hit, Index, keyword_document
from bot.index import load as load_index

METHODS = ("hybrid", "bm25", "dense")
VOCABULARY_FILE = "vocabulary.yml"
REPORT = "report"  # the kind (corpus/documents.yml) of a committee report that presents guidance
WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
STOPWORDS = frozenset(
    """a about above after again all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is
    it its itself just me more most my myself no nor not now of off on once only or other our
    ours ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we
    were what when where which while who whom why will with would you your yours yourself
    yourselves ok okay im i'm it's can't cant dont don't get got want wants""".split()
)


@dataclass(frozen=True)
class Scores:
    """Per passage: `ranking` orders the passages (for hybrid search, meaning and keywords
    fused); `relevance` says whether the best of them answers the question at all (for hybrid
    search, the cosine alone: shared words make a passage rank higher, but not relevant)."""

    ranking: np.ndarray
    relevance: np.ndarray


@dataclass(frozen=True)
class Weights:
    """Fusion settings, chosen on tests/data/questions.yml with `bot eval`. Rank fusion (RRF)
    was not used: it has no fixed scale, so no threshold could say "not covered" with it."""

    dense: float = 0.5  # share of the cosine in the fused score
    saturation: float = 4.0  # BM25 score that counts as half-way relevant
    # A member's own council comes first when its best passage is within this of the best
    # (no measured effect on either question set between 0.08 and 1; a member expects their
    # own council's words unless they are clearly off the point).
    own_council_margin: float = 0.2
    # A question this close (cosine) to one that a passage answers is about the guidance even
    # without a topic word ("Can I present my views as the council's position?"); no
    # out-of-scope development question comes within 0.05 of it.
    close_question: float = 0.7
    # A question must be at least this much closer (cosine) to some question a passage answers
    # than to every question the guidance does not answer (corpus/not_covered.yml). On the
    # development set, 0.05 to 0.08 declined 103 of its 107 out-of-scope questions, 0.02 only
    # 100, at the same hit@1; 0.1 cost four right answers.
    not_covered_margin: float = 0.05
    # Added to the relevance of a question that asks whether the member may do something ("can
    # I ...", "is it ok ..."): that is what the guidance is for, while out-of-scope questions
    # that share its words mostly ask for facts ("how much does it cost to boost a post?"). On
    # the development set, when it was chosen, 0.1 with a threshold of 0.54 quoted 0.912 of
    # first passages correctly at 0.916 rejection, against 0.872 at 0.925 without it.
    asking: float = 0.1
    # Subtracted from the ranking score of a committee report's passages (documents of kind
    # "report") for such a question: the guidance itself (a code, guidance or protocol) answers
    # it, and a report's front sheet ("This report is published on the council's website") only
    # shares its words. On the development set 110 of the 111 questions that ask whether the
    # member may do something are answered by a code, guidance or protocol; this took hit@1 from
    # 0.896 to 0.904 at the same rejection (0.1 and 0.2 alike; 0.05 changed nothing).
    asking_report: float = 0.1
    # Subtracted from the relevance for each word of the question that the guidance never uses
    # (nor its passage questions, the vocabulary or the councils' names): "hashtags", "Ofcom",
    # "iPhone". A question about something the guidance never mentions needs a closer passage to
    # be quoted. Only the first `unfamiliar_counted` different such words count: a long message
    # tells its story in words of its own.
    unfamiliar_word: float = 0.025
    unfamiliar_counted: int = 2
    # A message of at most this many words that opens with a `continuing` phrase of the
    # vocabulary ("what about on Twitter?") is searched together with the last question.
    follow_on_words: int = 8


@lru_cache(maxsize=4)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """Lower-case words, possessives dropped ("resident's" -> "resident")."""
    return [re.sub(r"'s$", "", w) for w in WORD.findall(text.lower().replace("’", "'"))]


def stem_all(tokens: list[str]) -> list[str]:
    return _stemmer().stemWords(tokens)


def stems(tokens: list[str]) -> list[str]:
    """Stems of the words that carry meaning (stop words left out)."""
    return stem_all([t for t in tokens if t not in STOPWORDS])


class Vocabulary:
    """Councillors' words -> the guidance's words, and the words that show a question is
    about online conduct at all, from `corpus/vocabulary.yml`."""

    def __init__(
        self,
        synonyms: dict[str, str],
        topics: str = "",
        asking: list[str] = (),
        comparing: list[str] = (),
        continuing: list[str] = (),
    ):
        self.topics = set(stems(words(topics)))
        self.asking = {tuple(words(phrase)) for phrase in asking}
        self.continuing = {tuple(words(phrase)) for phrase in continuing}
        # Longest first, so "how do the councils differ on" goes before "councils".
        self.comparing = [
            re.compile(rf"\b{re.escape(phrase.lower())}\b")
            for phrase in sorted(comparing, key=len, reverse=True)
        ]
        # Phrases are matched on word stems, so "drinks" finds the entry for "drink".
        self.rules = sorted(
            ((tuple(stem_all(words(phrase))), added) for phrase, added in synonyms.items()),
            key=lambda rule: -len(rule[0]),
        )
        self.words = {w for phrase, added in synonyms.items() for w in words(f"{phrase} {added}")}

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        if not path.exists():
            return cls({})
        data = read_yaml(path) or {}
        synonyms = data.get("synonyms") or {}
        if not isinstance(synonyms, dict):
            raise CorpusError(f"{path}{line_of(data, 'synonyms')}: 'synonyms' must map phrases to words")
        for phrase, added in synonyms.items():
            if not isinstance(added, str) or not added.strip():
                raise CorpusError(f"{path}{line_of(synonyms, phrase)}: {phrase!r} must add words (text)")
        topics = data.get("topics") or ""
        if not isinstance(topics, str):
            raise CorpusError(f"{path}{line_of(data, 'topics')}: 'topics' must be words separated by spaces")
        phrases = {}
        for key in ("asking", "comparing", "continuing"):
            phrases[key] = data.get(key) or []
            if not isinstance(phrases[key], list) or not all(
                isinstance(a, str) and words(a) for a in phrases[key]
            ):
                raise CorpusError(f"{path}{line_of(data, key)}: '{key}' must be a list of phrases")
        return cls(dict(synonyms), topics, phrases["asking"], phrases["comparing"], phrases["continuing"])

    def compared_topic(self, question: str) -> str:
        """What a question comparing the councils is about: the question without its
        `comparing` phrases ("how do the councils differ on drinking?" -> "drinking?"), which
        would otherwise pull every council's best passage away from the topic."""
        topic = question.lower().replace("’", "'")
        for pattern in self.comparing:
            topic = pattern.sub(" ", topic)
        return " ".join(topic.split()) if words(topic) else question

    def asks(self, question: str) -> bool:
        """Whether the question asks if something may be done ("can I", "is it ok"): one of
        the `asking` phrases appears in it as whole words."""
        tokens = words(question)
        return any(
            tuple(tokens[i : i + len(phrase)]) == phrase
            for phrase in self.asking
            for i in range(len(tokens) - len(phrase) + 1)
        )

    def continues(self, message: str, most_words: int) -> bool:
        """Whether a message carries on from the last question rather than asking a new one:
        it opens with one of the `continuing` phrases ("what about ...", "and if ...") and has
        at most `most_words` words ("what about on Twitter?")."""
        tokens = words(message)
        return len(tokens) <= most_words and any(tuple(tokens[: len(p)]) == p for p in self.continuing)

    def expand(self, question: str) -> str:
        """The question with the guidance's words added. Longer phrases are matched first and
        consume their words, so "campaign group" does not also count as "campaign"."""
        remaining: list[str | None] = list(stem_all(words(question)))
        added = []
        for phrase, words_added in self.rules:
            n = len(phrase)
            starts = [i for i in range(len(remaining) - n + 1) if tuple(remaining[i : i + n]) == phrase]
            if phrase and starts:
                added.append(words_added)
                for i in starts:
                    remaining[i : i + n] = [None] * n
        return f"{question} {' '.join(added)}" if added else question


class Keywords:
    """BM25 over the passages (with their section paths), on stemmed words."""

    def __init__(self, texts: list[str]):
        import logging

        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)

        self.count = len(texts)
        self.known_set = {w for t in texts for w in words(t)}
        self.retriever = bm25s.BM25()
        self.retriever.index([stems(words(t)) for t in texts], show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        query_stems = [s for s in stems(words(query)) if s]
        if not query_stems:
            return np.zeros(self.count, dtype="float32")
        return np.asarray(self.retriever.get_scores(query_stems), dtype="float32")


class Searcher:
    """Ranks passages for a question by one of METHODS, aware of the council asked about."""

    def __init__(self, index: Index, vocabulary: Vocabulary, weights: Weights = Weights()):
        self.index = index
        self.vocabulary = vocabulary
        self.weights = weights
        self.passages = index.passages
        self.keywords = Keywords([keyword_document(p) for p in self.passages])
        self.council_of = np.array([p.document.council.key for p in self.passages])
        self.from_report = np.array([p.document.kind == REPORT for p in self.passages], dtype="float32")
        # Words never "corrected": the guidance's, the vocabulary's, and common English words
        # (the whole words the embedding model's tokenizer knows, such as "seats" or "reset").
        self.known = self.keywords.known_set | vocabulary.words | STOPWORDS | index.encoder.common_words()
        self.spellings = sorted(self.keywords.known_set)
        names = " ".join(n for c in index.councils.values() for n in (c.name, *c.aliases))
        familiar = self.keywords.known_set | vocabulary.words | set(words(names))
        self.familiar_stems = set(stem_all(sorted(familiar)))
        # Each question's words are corrected for search and again for the topic check.
        self.spelling = lru_cache(maxsize=4096)(self._spelling)
        # And the whole question prepared for each of them (a millisecond or so each time).
        self.prepare = lru_cache(maxsize=QUESTIONS_REMEMBERED)(self.prepare)
        self.council_names = [
            (re.compile(rf"\b(?:{'|'.join(re.escape(n) for n in (c.name, *c.aliases))})\b", re.I), c.key)
            for c in index.councils.values()
        ]

    def embed_ahead(self, question: str) -> bool:
        """Prepares and embeds a message before it is asked about, so that its search finds that
        done (the action server does it for each member's message while the Rasa server is still
        reading it). True if it was not done already."""
        if not question.strip():
            return False
        misses = self.index.dense.cache_info().misses
        self.index.dense(self.prepare(question))
        return self.index.dense.cache_info().misses > misses

    def on_topic(self, question: str) -> bool:
        """Whether the question is about online conduct or the guidance at all: it has a word of
        the vocabulary's `topics` (with no topics listed, every question has), or it is very close
        to a question a passage answers; and it is not nearer to a question the guidance does
        not answer than to every question a passage answers."""
        if not self.nearer_the_guidance(question):
            return False
        if not self.vocabulary.topics:
            return True
        nearest = self.index.dense(self.prepare(question)).nearest_question
        return self.has_topic_word(question) or nearest >= self.weights.close_question

    def nearer_the_guidance(self, question: str) -> bool:
        """Whether the question is nearer some question a passage answers than every question
        the guidance does not answer (corpus/not_covered.yml), by `not_covered_margin`."""
        dense = self.index.dense(self.prepare(question))
        declined = dense.nearest_not_covered
        return declined is None or dense.nearest_question - declined >= self.weights.not_covered_margin

    def corrected(self, question: str) -> list[str]:
        """The question's words, misspellings of the guidance's words corrected."""
        return [self.spelling(w) for w in words(question)]

    def has_topic_word(self, question: str) -> bool:
        """Whether the question has a word of the vocabulary's `topics` (spelling corrected)."""
        return bool(set(stems(self.corrected(question))) & self.vocabulary.topics)

    def continues(self, message: str) -> bool:
        """Whether a message carries on from the last question ("what about on Twitter?", "and
        if they said yes?"): it is put as a continuation (Vocabulary.continues), and has not
        turned to something the guidance does not answer ("what about my council tax?")."""
        if not self.vocabulary.continues(message, self.weights.follow_on_words):
            return False
        # Without a topic word, it must pass the margin the scope check asks of any question.
        return self.has_topic_word(message) or self.nearer_the_guidance(message)

    def covered(self, question: str, hits: list[Hit], threshold: float) -> bool:
        """Whether the best hit answers the question well enough to be quoted: its relevance
        (for hybrid search, how close it is in meaning) reaches the threshold, and the question
        is about the guidance at all."""
        return bool(hits) and hits[0].relevance >= threshold and self.on_topic(question)

    def _spelling(self, word: str) -> str:
        """A word the guidance and the vocabulary do not know, replaced by the closest one they
        do ("planing" -> "planning"); short words are left alone, as too many are close."""
        if word in self.known or len(word) < 5 or not word.isalpha():
            return word
        close = difflib.get_close_matches(word, self.spellings, n=1, cutoff=0.85)
        return close[0] if close else word

    def unfamiliar(self, question: str) -> list[str]:
        """The question's words (spelling corrected, three letters or more, not stop words) that
        the guidance, its passage questions, the vocabulary and the councils' names never use."""
        tokens = [t for t in self.corrected(question) if len(t) > 2 and t.isalpha() and t not in STOPWORDS]
        unknown = [t for t, stem in zip(tokens, stem_all(tokens)) if stem not in self.familiar_stems]
        return list(dict.fromkeys(unknown))  # each once

    def councils(self) -> dict[str, Council]:
        return self.index.councils

    def named_council(self, question: str) -> str | None:
        """The council a question names ("what does Broxtowe say ..."), if exactly one."""
        named = {key for pattern, key in self.council_names if pattern.search(question)}
        return named.pop() if len(named) == 1 else None

    def prepare(self, question: str) -> str:
        """The question in the guidance's words: typos corrected, the vocabulary's words added,
        council names removed (they only choose whose passages come first, and would otherwise
        pull in any passage that names a council)."""
        corrected = WORD.sub(lambda m: self.spelling(m.group(0)), question.lower().replace("’", "'"))
        expanded = self.vocabulary.expand(corrected)
        for pattern, _ in self.council_names:
            expanded = pattern.sub(" ", expanded)
        return normalise(expanded)

    def scores(self, question: str, method: str = "hybrid") -> Scores:
        """Every passage's ranking score and relevance for the question, in passage order."""
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}")
        prepared = self.prepare(question)
        w = self.weights
        asks = self.vocabulary.asks(question)
        if method != "bm25":
            dense = self.index.dense_scores(prepared)
            unfamiliar = min(len(self.unfamiliar(question)), w.unfamiliar_counted)
            shift = (w.asking if asks else 0.0) - w.unfamiliar_word * unfamiliar
            relevance = dense + shift if shift else dense
        if method == "dense":
            return Scores(dense, relevance)
        bm25 = self.keywords.scores(prepared)
        bm25 = bm25 / (bm25 + w.saturation)
        if method == "bm25":
            return Scores(bm25, bm25)
        ranking = w.dense * dense + (1 - w.dense) * bm25
        return Scores(ranking - w.asking_report * self.from_report if asks else ranking, relevance)

    def hit(self, scores: Scores, i: int) -> Hit:
        return Hit(self.passages[i], float(scores.ranking[i]), float(scores.relevance[i]))

    def best_per_council(self, question: str) -> dict[str, Hit]:
        """Each council's best passage for the question."""
        if not question.strip():
            return {}
        scores = self.scores(question)
        best: dict[str, Hit] = {}
        for i in np.argsort(-scores.ranking, kind="stable"):
            best.setdefault(self.council_of[i], self.hit(scores, i))
        return best

    def search(
        self, question: str, k: int = 5, council: str | None = None, method: str = "hybrid"
    ) -> list[Hit]:
        """The k best passages, best first. A council named in the question comes first; the
        member's own `council` comes first when its best passage is nearly as good as the best."""
        if not question.strip():
            return []
        scores = self.scores(question, method)
        ranking = scores.ranking
        order = np.argsort(-ranking, kind="stable")
        named = self.named_council(question)
        preferred = named or council
        if preferred:
            own = order[self.council_of[order] == preferred]
            if len(own) and (named or ranking[own[0]] >= ranking[order[0]] - self.weights.own_council_margin):
                order = np.concatenate([own[:1], order[order != own[0]]])
        return [self.hit(scores, i) for i in order[:k]]


def load(config: Settings | None = None) -> Searcher:
    """A searcher over the current index (built first if needed) with the corpus vocabulary."""
    config = config or settings()
    return Searcher(load_index(config), Vocabulary.load(config.corpus_dir / VOCABULARY_FILE))
