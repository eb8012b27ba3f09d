"""Answers in the shape every channel shows: a verbatim quote with its citation, or an honest
"not covered" that says who to ask."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.config import settings
from bot.corpus import SECTION_SEPARATOR, Passage
from bot.index import Hit
from bot.search import Searcher

# How many candidates to look at when choosing the best passage and other councils' passages.
CANDIDATES = 20
DEFAULT_CONTACTS = "your council's Monitoring Officer or Communications Team"


def cite(passage: Passage, section: str | None = None) -> str:
    """Council, document (year) and section path, e.g. 'Peterborough City Council, Draft Social
    Media Code for Members (2019), Key Principles › Practices to Avoid'."""
    doc = passage.document
    return f"{doc.council.name}, {doc.title} ({doc.year}), {section or passage.section_path}"


def quote(passage: Passage) -> str:
    return f"“{passage.text}”\n— {cite(passage)}"


def passage_payload(p: Passage) -> dict:
    """The structured form of a quoted passage, for channels that render their own layout."""
    return {
        "type": "quote",
        "passage_id": p.id,
        "text": p.text,
        "council": p.document.council.name,
        "document": p.document.title,
        "date": p.document.date,
        "status": p.document.status,
        "section": p.section_path,
        "citation": cite(p),
    }


def quote_payload(hit: Hit) -> dict:
    """A passage found by the search, quoted, with its score."""
    return {**passage_payload(hit.passage), "score": round(hit.score, 3)}


@dataclass
class Answer:
    question: str
    best: Hit | None
    others: list[Hit] = field(default_factory=list)
    contacts: str = DEFAULT_CONTACTS
    relevance: float = 0.0  # of the best passage found, whether or not it is quoted

    @property
    def covered(self) -> bool:
        return self.best is not None

    def messages(self) -> list[str]:
        """The reply as text messages: one per quoted passage (best first), or "not covered"."""
        if not self.best:
            return [
                "The councils' social media guidance does not cover that, so I have nothing to "
                f"quote. Please ask {self.contacts}."
            ]
        others = [f"{h.passage.document.council.name} also says:\n{quote(h.passage)}" for h in self.others]
        return [quote(self.best.passage), *others]

    def payload(self) -> dict:
        """The same reply, structured, for channels that render their own layout."""
        if not self.best:
            return {"type": "not_covered", "question": self.question, "contacts": self.contacts}
        return {
            "type": "answer",
            "question": self.question,
            "quotes": [quote_payload(h) for h in [self.best, *self.others]],
        }

    def as_dict(self) -> dict:
        return {"messages": self.messages(), **self.payload()}

    def reply(self) -> Reply:
        shown = [h.passage for h in [self.best, *self.others]] if self.best else []
        return Reply(self.messages(), self.payload(), shown)


def answer(searcher: Searcher, question: str, council: str | None = None, k: int | None = None) -> Answer:
    """The best passage for the question (a council it names, or the member's own `council`,
    first), then the best relevant passage of each other council, up to k passages in all."""
    config = settings()
    max_others = config.max_other_councils if k is None else max(k - 1, 0)
    councils = searcher.councils()
    contacts = councils[council].contacts if council in councils else DEFAULT_CONTACTS
    hits = searcher.search(question, CANDIDATES, council=council)
    relevance = hits[0].relevance if hits else 0.0
    if not searcher.covered(question, hits, config.min_score):
        return Answer(question, None, contacts=contacts, relevance=relevance)
    best, others, seen = hits[0], [], {hits[0].passage.document.council.key}
    for hit in hits[1:]:
        key = hit.passage.document.council.key
        if hit.relevance >= config.min_score and key not in seen and len(others) < max_others:
            others.append(hit)
            seen.add(key)
    return Answer(question, best, others, contacts=contacts, relevance=relevance)


def answer_in_context(
    searcher: Searcher, message: str, last_question: str | None, council: str | None = None
) -> Answer:
    """The answer to a message in a conversation. One that carries on from the last question
    ("what about on Twitter?" after "can I comment on a planning application on Facebook?") is
    answered as the last question with it added, when the two together find a passage more
    relevant than each finds on its own, on average; else it is answered alone ("what about
    libel?" finds the libel passage). The answer's question is then the two together."""
    alone = answer(searcher, message, council)
    if not last_question or not searcher.continues(message):
        return alone
    together = answer(searcher, f"{last_question} {message}", council)
    before = searcher.search(last_question, 1, council=council)
    on_their_own = (alone.relevance + (before[0].relevance if before else 0.0)) / 2
    return together if together.covered and together.relevance > on_their_own else alone


# --------------------------------------------------------------------------- follow-ups


@dataclass
class Reply:
    """Text messages and the same content structured, as every follow-up returns them."""

    messages: list[str]
    payload: dict
    passages: list[Passage] = field(default_factory=list)  # what the reply quotes


def full_section(passages: list[Passage], shown: Passage) -> Reply:
    """Every passage of the section `shown` belongs to, in the document's order, cited once."""
    section = [p for p in passages if p.document.id == shown.document.id and p.heading == shown.heading]
    heading = SECTION_SEPARATOR.join(shown.heading)
    citation = cite(shown, heading)
    # Single line breaks only: channels split a message at blank lines.
    quoted = "\n".join(f"“{p.text}”" for p in section)
    return Reply(
        [f"The whole of {heading}:\n{quoted}\n— {citation}"],
        {
            "type": "section",
            "council": shown.document.council.name,
            "document": shown.document.title,
            "section": heading,
            "citation": citation,
            "passages": [{"passage_id": p.id, "text": p.text} for p in section],
        },
        section,
    )


# How a message that names a council asks what that council says ("what about Broxtowe?"),
# rather than telling the member's own council ("Broxtowe").
QUESTION_OPENERS = frozenset("what what's whats does do how and is which any".split())


def is_question(message: str) -> bool:
    """Whether a message is put as a question: it ends with "?" or opens with a question word."""
    first = message.lower().replace("’", "'").split()[:1]
    return message.rstrip().endswith("?") or bool(first and first[0].strip(",") in QUESTION_OPENERS)


def compare(searcher: Searcher, question: str, exclude: str | None = None, only: str | None = None) -> Reply:
    """What each council (but `exclude`; or `only` that one) says on the question: its best
    relevant passage, or plainly that its documents here do not address it."""
    threshold = settings().min_score
    topic = searcher.vocabulary.compared_topic(question)
    on_topic = searcher.on_topic(topic)
    best = searcher.best_per_council(topic)
    messages, rows, quoted = [], [], []
    for key, council in searcher.councils().items():
        if key == exclude or only not in (None, key):
            continue
        hit = best.get(key)
        if on_topic and hit and hit.relevance >= threshold:
            messages.append(f"{council.name}:\n{quote(hit.passage)}")
            rows.append({"council": council.name, "addressed": True, **quote_payload(hit)})
            quoted.append(hit.passage)
        else:
            messages.append(f"{council.name}: the guidance I have from this council does not address this.")
            rows.append({"council": council.name, "addressed": False})
    return Reply(messages, {"type": "comparison", "question": question, "councils": rows}, quoted)


def source(passage: Passage) -> str:
    """Where a quoted passage comes from, in full."""
    doc = passage.document
    return (
        f"That passage comes from {doc.council.name}'s “{doc.title}” ({doc.kind}, dated "
        f"{doc.date}, status: {doc.status}), section {passage.section_path}. "
        f"Its source text is {doc.file} in the assistant's corpus."
    )
