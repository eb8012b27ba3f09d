"""Turn the councils' source texts into passages.

A passage is one self-contained piece of a document as its authors structured it (a numbered
paragraph, a bullet, a paragraph under a heading, a table row or cell, or a whole table of short
cells under a header) with the section path the document itself gives it. Passage text is the
source's own words: only whitespace, line wrapping and the conversion markup listed in
`documents.yml` are repaired.

`corpus/documents.yml` describes every file: its council, the documents it holds and the
layout facts a parser cannot guess (reading order, headings, noise). See that file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.datafile import CorpusError, line_of, read_yaml

METADATA_FILE = "documents.yml"
# What councillors ask, per passage: a few questions each passage answers, in their words.
QUESTIONS_FILE = "passage_questions.yml"
# Questions councillors ask that the guidance does not answer.
NOT_COVERED_FILE = "not_covered.yml"
SECTION_SEPARATOR = " › "
# The section of passages that come before a document's first heading (a report's cover).
OPENING_SECTION = "Front sheet"

BULLET = re.compile(r"^\s*(?:[-•]\s+o\s+|[-•]\s+|o\s+(?=\S))")
NUMBERED = re.compile(r"^(\d+(?:\.\d+)*)\.?\s+(\S.*)$")
# A capitalised title glued to the numbered heading that follows it, e.g.
# "MEMBER SOCIAL MEDIA GUIDANCE1. Purpose of report".
GLUED_HEADING = re.compile(r"^([A-Z][A-Z &]{5,}[A-Z])(\d+\.\s+\S.*)$")
# A bullet that opens with a bold or italic label: "**Libel** – if you publish ..."
LABELLED = re.compile(r"^(\*\*?)([^*]+?)\1\s*[–-]\s")
TERMINAL = (".", "!", "?", ":", ";", ",", "”", '"')


@dataclass(frozen=True)
class Council:
    key: str
    name: str
    contacts: str
    # Other names members use for the council ("Cambs"), found in questions.
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Document:
    id: str
    council: Council
    title: str
    kind: str
    date: str
    status: str
    file: str

    @property
    def year(self) -> str:
        return self.date[:4]


@dataclass(frozen=True)
class Passage:
    id: str
    document: Document
    section: tuple[str, ...]
    text: str
    lines: tuple[int, ...] = field(compare=False)
    # How many leading parts of `section` are headings; the rest name the paragraph ("4.1"),
    # the bullet's label ("Libel") or the table column ("Do's") within that heading's section.
    heading_depth: int = 0
    # Questions this passage answers, in councillors' words (QUESTIONS_FILE).
    questions: tuple[str, ...] = field(default=(), compare=False)

    @property
    def section_path(self) -> str:
        return SECTION_SEPARATOR.join(self.section)

    @property
    def heading(self) -> tuple[str, ...]:
        """The section this passage belongs to, as its headings name it."""
        return self.section[: self.heading_depth or len(self.section)]


@dataclass(frozen=True)
class Omission:
    """A source line (or part of one) left out of the passages, and why."""

    file: str
    line: int
    text: str
    reason: str


@dataclass
class Corpus:
    passages: list[Passage]
    omissions: list[Omission]
    headings: dict[str, set[int]]  # file -> line numbers consumed as headings or labels
    documents: list[Document]
    councils: dict[str, Council]
    not_covered: list[str] = field(default_factory=list)  # NOT_COVERED_FILE


# --------------------------------------------------------------------------- metadata


def load_metadata(corpus_dir: Path) -> dict:
    path = corpus_dir / METADATA_FILE
    meta = read_yaml(path)
    for key in ("councils", "files"):
        if not isinstance(meta, dict) or not isinstance(meta.get(key), dict):
            raise CorpusError(f"{path}: needs a '{key}' mapping")
    return meta


def _councils(meta: dict, where: Path) -> dict[str, Council]:
    councils = {}
    for key, value in meta["councils"].items():
        for needed in ("name", "contacts"):
            if not value or needed not in value:
                raise CorpusError(f"{where}: council '{key}' needs '{needed}'")
        aliases = tuple(str(a) for a in value.get("aliases") or ())
        councils[key] = Council(key=key, name=value["name"], contacts=value["contacts"], aliases=aliases)
    return councils


# --------------------------------------------------------------------------- lines


@dataclass
class Line:
    number: int
    text: str


def _ranges(spec: list[str], total: int, where: str) -> list[int]:
    order = []
    for item in spec:
        match = re.fullmatch(r"(\d+)-(\d*)", str(item).strip())
        if not match:
            raise CorpusError(f"{where}: reading_order entry '{item}' is not 'first-last'")
        first, last = int(match[1]), int(match[2] or total)
        if not 1 <= first <= last <= total:
            raise CorpusError(f"{where}: reading_order range '{item}' is outside lines 1-{total}")
        order.extend(range(first, last + 1))
    missing = sorted(set(range(1, total + 1)) - set(order))
    repeated = sorted({n for n in order if order.count(n) > 1})
    if missing or repeated:
        raise CorpusError(
            f"{where}: reading_order must name every line once "
            f"(missing {missing[:10]}, repeated {repeated[:10]})"
        )
    return order


def _read_lines(path: Path, file_meta: dict) -> list[Line]:
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        raise CorpusError(f"{path}:{line}: not UTF-8 text ({error.reason})") from error
    texts = raw.split("\n")
    if texts and texts[-1] == "":
        texts.pop()
    lines = [Line(n, t.rstrip().replace("\r", "")) for n, t in enumerate(texts, start=1)]
    if "reading_order" in file_meta:
        order = _ranges(file_meta["reading_order"], len(lines), str(path))
        lines = [lines[n - 1] for n in order]
    return lines


def _remove_noise(
    lines: list[Line], file_meta: dict, common: list[dict], path: Path
) -> tuple[list[Line], list[Omission]]:
    """Blank out noise lines, keeping their place so paragraphs stay apart."""
    omitted: dict[int, str] = {}
    for rule in file_meta.get("noise", []):
        reason = rule.get("reason") or "no reason given"
        if "line" in rule:
            hits = [ln for ln in lines if ln.text == rule["line"].rstrip()]
            if not hits:
                raise CorpusError(f"{path}: noise line not found: {rule['line']!r}")
            for ln in hits:
                omitted[ln.number] = reason
        elif "from" in rule and "to" in rule:
            start = next((i for i, ln in enumerate(lines) if ln.text == rule["from"].rstrip()), None)
            if start is None:
                raise CorpusError(f"{path}: noise 'from' line not found: {rule['from']!r}")
            end = next((i for i in range(start, len(lines)) if lines[i].text == rule["to"].rstrip()), None)
            if end is None:
                raise CorpusError(f"{path}: noise 'to' line not found: {rule['to']!r}")
            for ln in lines[start : end + 1]:
                if ln.text.strip():
                    omitted[ln.number] = reason
        else:
            raise CorpusError(f"{path}: a noise rule needs 'line', or 'from' and 'to'")
    for rule in common:
        for ln in lines:
            if ln.text.strip() and re.search(rule["pattern"], ln.text):
                omitted.setdefault(ln.number, rule["reason"])
    omissions = [
        Omission(path.name, ln.number, ln.text, omitted[ln.number]) for ln in lines if ln.number in omitted
    ]
    kept = [Line(ln.number, "" if ln.number in omitted else ln.text) for ln in lines]
    return kept, omissions


# --------------------------------------------------------------------------- units


@dataclass
class Unit:
    """One structural piece of a block: a heading, a paragraph, a bullet or a table row."""

    kind: str  # heading | paragraph | bullet | row | table (a whole table of short cells)
    text: str
    lines: list[int]
    level: str = ""  # headings: "root", "numbered" or "sub"
    number: str = ""  # numbered headings and paragraphs
    label: str = ""  # bullets that open with a label ("Libel")
    label_lines: list[int] = field(default_factory=list)
    cells: list[str] = field(default_factory=list)


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _is_capitals(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 4 and text[0].isalnum() and all(c.isupper() for c in letters)


def display_heading(text: str) -> str:
    """A heading as a path segment: markup gone, capitals in title case, no trailing colon."""
    text = normalise(text).rstrip(":").strip()
    if re.fullmatch(r"(?:[A-Z] )+[A-Z]", text):  # "R E C O M M E N D A T I O N S"
        text = text.replace(" ", "")
    if _is_capitals(text):
        small = {"and", "or", "of", "for", "the", "to", "in", "on", "a", "an", "by"}
        words = text.lower().split(" ")
        text = " ".join(w if i and w in small else w[:1].upper() + w[1:] for i, w in enumerate(words))
    return text


def _classify_line(text: str, number: int, listed: dict[str, str], alone: bool) -> Unit:
    """What a single line of an unwrapped document is."""
    stripped = text.strip()
    if normalise(stripped) in listed:
        return Unit("heading", stripped, [number], level=listed[normalise(stripped)])
    cells = [c.strip() for c in text.split("\t") if c.strip()]
    if len(cells) >= 2:
        return Unit("row", normalise(" ".join(cells)), [number], cells=cells)
    bullet = BULLET.match(text)
    if bullet:
        body = text[bullet.end() :]
        numbered = re.match(r"^(\d+(?:\.\d+)+)\s+(\S.*)$", body)
        if numbered:
            return Unit("bullet", numbered[2], [number], number=numbered[1])
        label = LABELLED.match(body)
        return Unit("bullet", body, [number], label=label[2].strip() if label else "")
    numbered = NUMBERED.match(stripped)
    if numbered:
        rest = numbered[2]
        if alone and not rest.endswith(".") and len(rest) <= 120:
            return Unit("heading", stripped, [number], level="numbered", number=numbered[1])
        if "." in numbered[1]:
            return Unit("paragraph", rest, [number], number=numbered[1])
    if alone and _is_capitals(stripped.replace("*", "")):
        return Unit("heading", stripped, [number], level="root")
    return Unit("paragraph", stripped, [number])


def _unwrapped_units(block: list[Line], listed: dict[str, str]) -> list[Unit]:
    units = []
    for ln in block:
        glued = GLUED_HEADING.match(ln.text.strip())
        if glued:
            units.append(Unit("heading", glued[1], [ln.number], level="root"))
            units.append(_classify_line(glued[2], ln.number, listed, alone=True))
            units[-1].lines = []  # the line is already counted by the title above
            continue
        units.append(_classify_line(ln.text, ln.number, listed, alone=len(block) == 1))
    return units


def _wrapped_units(block: list[Line], listed: dict[str, str]) -> list[Unit]:
    """Units of hard-wrapped text: bullets and listed headings start new units."""
    units: list[Unit] = []
    i = 0
    while i < len(block):
        heading = next(
            (
                n
                for n in (1, 2, 3)
                if i + n <= len(block) and normalise(" ".join(ln.text for ln in block[i : i + n])) in listed
            ),
            0,
        )
        if heading:
            text = normalise(" ".join(ln.text for ln in block[i : i + heading]))
            lines = [ln.number for ln in block[i : i + heading]]
            units.append(Unit("heading", text, lines, level=listed[text]))
            i += heading
            continue
        start = block[i]
        bullet = BULLET.match(start.text)
        body = [Line(start.number, start.text[bullet.end() :] if bullet else start.text.strip())]
        i += 1
        while (
            i < len(block)
            and not BULLET.match(block[i].text)
            and not any(
                normalise(block[i].text) == h or h.startswith(normalise(block[i].text) + " ") for h in listed
            )
        ):
            body.append(block[i])
            i += 1
        unit = Unit("bullet" if bullet else "paragraph", "", [ln.number for ln in body])
        # "• Libel" followed by "If you publish ..." on the next line: a labelled bullet.
        if (
            bullet
            and len(body) > 1
            and not body[0].text.rstrip().endswith(TERMINAL)
            and body[1].text.strip()[:1].isupper()
        ):
            unit.label, unit.label_lines = normalise(body[0].text), [body[0].number]
            unit.lines = unit.lines[1:]
            body = body[1:]
        unit.text = _join_wrapped(ln.text for ln in body)
        units.append(unit)
    return units


def _join_wrapped(texts) -> str:
    """Join wrapped lines, repairing words hyphenated across a line break."""
    joined = ""
    for text in texts:
        text = text.strip()
        if re.search(r"[a-z]-$", joined) and text[:1].islower():
            joined = joined[:-1] + text
        else:
            joined = f"{joined} {text}" if joined else text
    return joined


def _blocks(lines: list[Line]) -> list[list[Line]]:
    blocks, current = [], []
    for ln in lines:
        if ln.text.strip():
            current.append(ln)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


# --------------------------------------------------------------------------- passages


def _strip_inline_noise(text: str, patterns: list[re.Pattern]) -> str:
    for pattern in patterns:
        text = pattern.sub("", text)
    return normalise(text)


def _continues(previous: Unit | None, unit: Unit) -> bool:
    """Whether a paragraph carries on the previous passage across a page or column break."""
    if previous is None or previous.kind not in ("paragraph", "bullet") or unit.kind != "paragraph":
        return False
    if unit.number or not unit.text:
        return False
    first = unit.text.lstrip("\"'“‘")[:1]
    if first.islower():
        return True
    # A long paragraph that stops mid-sentence, as in "... interpretation of this" / "Code of ..."
    return len(previous.text) > 80 and previous.text[-1:].islower()


def _has_header(rows: list[Unit]) -> bool:
    """Whether a table's first row names its columns or records ("Do's", "Officer contact:")."""
    return len(rows) > 1 and all(len(c.split()) <= 3 for c in rows[0].cells)


def _column_table(rows: list[Unit]) -> bool:
    """Of tables with a header (`_has_header`), one whose rows fill its columns ("Do's",
    "Don'ts") with long cells."""
    header, body = rows[0], rows[1:]
    if any(len(r.cells) != len(header.cells) for r in body):
        return False
    words = [len(c.split()) for r in body for c in r.cells]
    return sum(words) / len(words) >= 6


class _Builder:
    """Walks the units of one file, keeping the section stack and emitting passages."""

    def __init__(self, path: Path, documents: list[Document], starts: list[str | None], inline):
        self.path = path
        self.documents = documents
        self.starts = starts
        self.inline = inline
        self.doc_index = 0
        self.stack: list[Unit] = []
        # The numbered paragraph ("2.2") that unnumbered paragraphs and bullets below it belong to.
        self.paragraph_number = ""
        # Passages of the current block: (section path, how many parts are headings, unit).
        self.pending: list[tuple[tuple[str, ...], int, Unit]] = []
        self.passages: list[Passage] = []
        self.heading_lines: set[int] = set()
        self.seen_ids: set[str] = set()

    # the section path --------------------------------------------------------

    def push(self, heading: Unit) -> None:
        self.paragraph_number = ""
        if heading.level == "root":
            self.stack = [heading]
        elif heading.level == "numbered":
            depth = _depth(heading.number)
            self.stack = [
                h
                for h in self.stack
                if h.level == "root" or (h.level == "numbered" and _depth(h.number) < depth)
            ]
            self.stack.append(heading)
        else:
            self.stack = [h for h in self.stack if h.level != "sub"]
            self.stack.append(heading)

    def section(self) -> list[str]:
        """The current headings, from the deepest numbered one; the opening section if none."""
        numbered = [i for i, h in enumerate(self.stack) if h.level == "numbered"]
        visible = self.stack[numbered[-1] :] if numbered else self.stack
        headings = [display_heading(_strip_inline_noise(h.text, self.inline)) for h in visible]
        return headings or [OPENING_SECTION]

    # documents ----------------------------------------------------------------

    def maybe_start_document(self, block: list[Line]) -> list[Line]:
        following = self.doc_index + 1
        if following < len(self.starts) and normalise(block[0].text) == normalise(self.starts[following]):
            self.flush()
            self.doc_index = following
            self.stack = []
            self.paragraph_number = ""
            self.heading_lines.add(block[0].number)
            return block[1:]
        return block

    # passages -----------------------------------------------------------------

    def add(self, unit: Unit, previous: Unit | None) -> None:
        if unit.kind == "heading":
            self.flush()
            self.heading_lines.update(unit.lines)
            self.push(unit)
            return
        if _continues(previous, unit) and self.pending:
            earlier = self.pending[-1][2]
            earlier.text = f"{earlier.text} {unit.text}"
            earlier.lines += unit.lines
            return
        section = self.section()
        depth = len(section)
        if unit.number:
            self.paragraph_number = unit.number
        if self.paragraph_number:
            section.append(self.paragraph_number)
        if unit.label:
            section.append(display_heading(_strip_inline_noise(unit.label, self.inline)))
            self.heading_lines.update(unit.label_lines)
        self.pending.append((tuple(section), depth, unit))

    def add_table(self, rows: list[Unit]) -> None:
        header = rows[0]
        self.heading_lines.update(header.lines)
        base = self.section()
        for row in rows[1:]:
            for name, cell in zip(header.cells, row.cells):
                column = display_heading(_strip_inline_noise(name, self.inline))
                self.pending.append((tuple(base + [column]), len(base), Unit("cell", cell, row.lines)))

    def flush(self) -> None:
        document = self.documents[self.doc_index]
        for section, depth, unit in self.pending:
            text = _strip_inline_noise(unit.text, self.inline)
            if not text:
                continue
            passage_id = self._id(document, section, text)
            self.passages.append(Passage(passage_id, document, section, text, tuple(unit.lines), depth))
        self.pending = []

    def _id(self, document: Document, section: tuple[str, ...], text: str) -> str:
        digest = hashlib.sha1(f"{SECTION_SEPARATOR.join(section)}\n{text}".encode()).hexdigest()
        base = f"{document.id}-{digest[:8]}"
        candidate, n = base, 2
        while candidate in self.seen_ids:
            candidate, n = f"{base}-{n}", n + 1
        self.seen_ids.add(candidate)
        return candidate


def _depth(number: str) -> int:
    parts = number.split(".")
    while len(parts) > 1 and parts[-1] == "0":
        parts.pop()
    return len(parts)


def _documents(meta: dict, name: str, councils: dict[str, Council], where: str):
    council_key = meta.get("council")
    if council_key not in councils:
        raise CorpusError(f"{where}: council '{council_key}' is not one of {sorted(councils)}")
    entries = meta.get("documents") or []
    if not entries:
        raise CorpusError(f"{where}: lists no documents")
    documents, starts = [], []
    for i, entry in enumerate(entries):
        for needed in ("id", "title", "kind", "date", "status"):
            if needed not in entry:
                raise CorpusError(f"{where}: document {i + 1} needs '{needed}'")
        if i and "starts_at" not in entry:
            raise CorpusError(f"{where}: document '{entry['id']}' needs 'starts_at'")
        documents.append(
            Document(
                id=str(entry["id"]),
                council=councils[council_key],
                title=str(entry["title"]),
                kind=str(entry["kind"]),
                date=str(entry["date"]),
                status=str(entry["status"]),
                file=name,
            )
        )
        starts.append(entry.get("starts_at"))
    return documents, starts


def parse_file(
    path: Path, file_meta: dict, councils: dict[str, Council], corpus_meta: dict
) -> tuple[list[Passage], list[Omission], set[int]]:
    where = f"{path.parent / METADATA_FILE} ({path.name})"
    documents, starts = _documents(file_meta, path.name, councils, where)
    lines = _read_lines(path, file_meta)
    lines, omissions = _remove_noise(lines, file_meta, corpus_meta.get("common_noise", []), path)
    inline = [re.compile(rule["pattern"]) for rule in corpus_meta.get("inline_noise", [])]
    listed = _listed_headings(file_meta.get("headings", []), where)
    _check_headings_exist(lines, listed, file_meta.get("wrapped", False), path)

    builder = _Builder(path, documents, starts, inline)
    previous: Unit | None = None
    for block in _blocks(lines):
        block = builder.maybe_start_document(block)
        if not block:
            previous = None
            continue
        if file_meta.get("wrapped", False):
            units = _wrapped_units(block, listed)
        else:
            units = _unwrapped_units(block, listed)
        rows = [u for u in units if u.kind == "row"]
        if rows and len(rows) == len(units) and _has_header(rows):
            if _column_table(rows):
                builder.add_table(rows)
            else:  # short cells under a header (contacts, versions) only make sense together
                lines = [n for r in rows for n in r.lines]
                builder.add(Unit("table", " ".join(r.text for r in rows), lines), None)
            previous = None
            continue
        for unit in units:
            builder.add(unit, previous)
            previous = unit if unit.kind != "heading" else None
    builder.flush()
    if builder.doc_index != len(documents) - 1:
        missing = starts[builder.doc_index + 1]
        raise CorpusError(f"{where}: 'starts_at' line not found: {missing!r}")
    return builder.passages, omissions, builder.heading_lines


def _listed_headings(entries: list, where: str) -> dict[str, str]:
    """Headings named in the metadata: text -> level ("sub", or "root" for a new top section)."""
    listed = {}
    for entry in entries:
        if isinstance(entry, str):
            listed[normalise(entry)] = "sub"
        elif isinstance(entry, dict) and entry.get("level") in ("sub", "root") and "text" in entry:
            listed[normalise(entry["text"])] = entry["level"]
        else:
            raise CorpusError(f"{where}: a heading is a string or {{text: ..., level: root|sub}}: {entry!r}")
    return listed


def _check_headings_exist(lines: list[Line], listed: dict[str, str], wrapped: bool, path: Path) -> None:
    if wrapped:
        text = normalise(" ".join(ln.text for ln in lines))
        missing = [h for h in listed if h not in text]
    else:
        present = {normalise(ln.text) for ln in lines}
        missing = [h for h in listed if h not in present]
    if missing:
        raise CorpusError(f"{path}: listed heading(s) not found: {sorted(missing)}")


def load_corpus(corpus_dir: Path) -> Corpus:
    meta = load_metadata(corpus_dir)
    where = corpus_dir / METADATA_FILE
    councils = _councils(meta, where)
    listed_files = set(meta["files"])
    present = {p.name for p in corpus_dir.glob("*.txt")}
    if present - listed_files:
        raise CorpusError(f"{where}: no metadata for {sorted(present - listed_files)}")
    if listed_files - present:
        raise CorpusError(f"{where}: files not found in {corpus_dir}: {sorted(listed_files - present)}")
    passages, omissions, headings, documents = [], [], {}, []
    for name in sorted(meta["files"]):
        file_passages, file_omissions, heading_lines = parse_file(
            corpus_dir / name, meta["files"][name] or {}, councils, meta
        )
        passages += file_passages
        omissions += file_omissions
        headings[name] = heading_lines
        documents += [d for d in dict.fromkeys(p.document for p in file_passages)]
    passages = with_questions(passages, corpus_dir / QUESTIONS_FILE)
    not_covered = load_not_covered(corpus_dir / NOT_COVERED_FILE)
    return Corpus(passages, omissions, headings, documents, councils, not_covered)


def load_not_covered(path: Path) -> list[str]:
    """The questions of NOT_COVERED_FILE (none if there is no file)."""
    if not path.exists():
        return []
    data = read_yaml(path) or {}
    asked = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(asked, list):
        raise CorpusError(f"{path}: must hold 'questions:', a list of questions")
    for number, question in enumerate(asked, 1):
        if not isinstance(question, str) or not question.strip():
            raise CorpusError(f"{path}{line_of(data, 'questions')}: question {number} must be a line of text")
    return [normalise(q) for q in asked]


def load_questions(path: Path, passages: list[Passage]) -> dict[str, tuple[str, ...]]:
    """Passage id -> the questions it answers, from QUESTIONS_FILE (none if there is no file)."""
    if not path.exists():
        return {}
    data = read_yaml(path) or {}
    if not isinstance(data, dict):
        raise CorpusError(f"{path}: must map passage ids to lists of questions")
    known = {p.id for p in passages}
    questions = {}
    for passage_id, asked in data.items():
        where = f"{path}{line_of(data, passage_id)}"
        if passage_id not in known:
            raise CorpusError(f"{where}: no passage has the id {passage_id!r} (see `bot passages`)")
        if (
            not isinstance(asked, list)
            or not asked
            or not all(isinstance(q, str) and q.strip() for q in asked)
        ):
            raise CorpusError(f"{where}: {passage_id} needs a list of questions, each a line of text")
        questions[passage_id] = tuple(normalise(q) for q in asked)
    return questions


def with_questions(passages: list[Passage], path: Path) -> list[Passage]:
    questions = load_questions(path, passages)
    return [replace(p, questions=questions.get(p.id, ())) for p in passages]
