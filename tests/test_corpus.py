"""The parser keeps every sentence of every source, once, with a section path and its own words."""

import re
import shutil
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from bot.corpus import BULLET, CorpusError, load_corpus, load_metadata, normalise

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"

# Everything the parser leaves out, and nothing else: (file, line number, why).
LEFT_OUT = (
    {
        ("000_3386cca779cc2222.txt", n, "signature table (who was sent the draft, and when)")
        for n in range(133, 142)
    }
    | {
        ("001_2f465f5752efa0e8.txt", 37, "table border line"),
        ("001_2f465f5752efa0e8.txt", 153, "page filler"),
        ("002_a660f2eac1af32d7.txt", 31, "stray heading from the text conversion"),
        ("002_a660f2eac1af32d7.txt", 39, "table of contents with page numbers"),
        ("002_a660f2eac1af32d7.txt", 224, "end-of-document marker"),
        ("003_6b8361dd5dfc6952.txt", 31, "end of an e-mail address wrapped into a table row of its own"),
    }
    | {("002_a660f2eac1af32d7.txt", n, "table of contents with page numbers") for n in range(41, 56)}
)


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(CORPUS)


def source_lines(name):
    return (CORPUS / name).read_text(encoding="utf-8").split("\n")


def inline_noise():
    meta = load_metadata(CORPUS)
    return [re.compile(rule["pattern"]) for rule in meta["inline_noise"]]


def clean(text, patterns):
    for pattern in patterns:
        text = pattern.sub("", text)
    return normalise(text)


def test_corpus_files_are_the_seeds_byte_for_byte():
    if not SEEDS.exists():
        pytest.skip("shared/seeds is not beside this checkout")
    for seed in SEEDS.glob("*.txt"):
        assert (CORPUS / seed.name).read_bytes() == seed.read_bytes(), seed.name


def test_only_the_listed_noise_is_left_out(corpus):
    assert {(o.file, o.line, o.reason) for o in corpus.omissions} == LEFT_OUT


def test_every_line_is_a_passage_a_heading_or_listed_noise(corpus):
    meta = load_metadata(CORPUS)
    by_file = defaultdict(list)
    for p in corpus.passages:
        by_file[p.document.file].append(p)
    for name in meta["files"]:
        non_blank = {n for n, t in enumerate(source_lines(name), 1) if t.strip()}
        in_passages = defaultdict(list)
        for p in by_file[name]:
            for n in p.lines:
                in_passages[n].append(p)
        omitted = {o.line for o in corpus.omissions if o.file == name}
        headings = corpus.headings[name]
        assert non_blank == set(in_passages) | omitted | headings, name
        assert not set(in_passages) & omitted, name
        # A line in two passages is a table row split into its columns' cells.
        for n, passages in in_passages.items():
            if len(passages) > 1:
                assert all(p.lines == (n,) for p in passages), (name, n)


def test_every_sentence_is_in_exactly_one_passage(corpus):
    """Each sentence (in wrapped text, each line's piece of one) is in the passages exactly as
    often as in the source: once, unless the document itself repeats it."""
    patterns = inline_noise()
    meta = load_metadata(CORPUS)
    checked = 0
    for name in meta["files"]:
        passages = [normalise(p.text) for p in corpus.passages if p.document.file == name]
        skip = corpus.headings[name] | {o.line for o in corpus.omissions if o.file == name}
        content = []
        for n, text in enumerate(source_lines(name), 1):
            if text.strip() and n not in skip:
                bullet = BULLET.match(text)
                text = text[bullet.end() :] if bullet else text
                # A paragraph number ("- 1.1 Social media ...") moves into the section path.
                content.append(re.sub(r"^\s*\d+(?:\.\d+)+\s+", "", text))
        whole = " ".join(clean(c.replace("\t", " "), patterns) for c in content)
        for line in content:
            for cell in line.split("\t"):
                for sentence in re.split(r"(?<=[.!?;])\s+", clean(cell, patterns)):
                    if len(sentence.split()) < 3:
                        continue
                    expected = whole.count(sentence)
                    found = sum(p.count(sentence) for p in passages)
                    assert found == expected, f"{name}: {sentence!r} in {found} passages"
                    checked += 1
    assert checked > 400


def test_passage_text_is_the_sources_own_words(corpus):
    patterns = inline_noise()
    sources = {
        name: clean(" ".join(BULLET.sub("", t) for t in source_lines(name)).replace("\t", " "), patterns)
        for name in load_metadata(CORPUS)["files"]
    }
    for p in corpus.passages:
        assert normalise(p.text) in sources[p.document.file], p.id


def test_every_passage_has_a_section_path(corpus):
    for p in corpus.passages:
        assert p.section and all(part.strip() for part in p.section), p.id
        assert p.text.strip(), p.id


def test_ids_are_unique_and_identical_across_runs(corpus):
    again = load_corpus(CORPUS)
    ids = [p.id for p in corpus.passages]
    assert len(ids) == len(set(ids))
    assert ids == [p.id for p in again.passages]


def test_every_document_has_passages(corpus):
    counts = defaultdict(int)
    for p in corpus.passages:
        counts[p.document.id] += 1
    assert set(counts) == {
        "coventry-report-2018",
        "coventry-protocol-2018",
        "peterborough-report-2019",
        "peterborough-code-2019",
        "broxtowe-report-2017",
        "broxtowe-guidance-2017",
        "cambridgeshire-report-2019",
    }
    assert all(n >= 5 for n in counts.values()), counts


def find(corpus, start):
    matches = [p for p in corpus.passages if p.text.startswith(start)]
    assert len(matches) == 1, (start, matches)
    return matches[0]


@pytest.mark.parametrize(
    "start, council, section",
    [
        (
            "Bias and predetermination – if you are involved",
            "Broxtowe Borough Council",
            "3.3 Legal issues › Bias and predetermination",
        ),
        (
            "Where you are involved in making planning",
            "Peterborough City Council",
            "Key Principles › Practices to Avoid",
        ),
        (
            "If you are involved in making planning, licensing",
            "Coventry City Council",
            "Legal issues and social media › Bias and predetermination",
        ),
        (
            "The Social media protocol for Elected Members would be shared",
            "Coventry City Council",
            "4. Timetable for implementing this decision › 4.1",
        ),
        ("Post in haste or where your judgement", "Broxtowe Borough Council", "3.5 Top Tips › Don'ts"),
        (
            "Treat others with respect - do not use",
            "Peterborough City Council",
            "Key Principles › Examples of Good Practice › Treat others with respect",
        ),
        ("A draft Social Media Code is attached", "Cambridgeshire County Council", "2. Main Issues › 2.1"),
    ],
)
def test_section_paths_are_the_documents_own(corpus, start, council, section):
    passage = find(corpus, start)
    assert passage.document.council.name == council
    assert passage.section_path == section


def test_text_broken_across_pages_is_one_passage(corpus):
    peterborough = find(corpus, "Where you are involved in making planning")
    assert (
        "prepared to take on board and weigh all the evidence, and were genuinely persuadable"
        in peterborough.text
    )
    coventry = find(corpus, "Never publish the personal data of individuals")
    assert "unless you have their express permission. Personal information" in coventry.text


def test_a_table_of_short_cells_under_a_header_is_one_passage(corpus):
    """A contacts table or a version history means nothing row by row ("Name: Fiona McMillan
    Name: Councillor Lis Every"); its rows stay together under their header."""
    contacts = find(corpus, "Officer contact: Member contact:")
    assert "Name: Fiona McMillan Name: Councillor Lis Every" in contacts.text
    assert "Email: lis.every@cambridgeshire.gov.uk" in contacts.text
    assert contacts.lines == (27, 28, 29, 30)
    history = find(corpus, "Date Summary of Changes Version")
    assert "30 November 2017 Draft approved by GMT" in history.text
    # A table of labelled rows keeps a passage per row: each row says what it is.
    officer = find(corpus, "Contact Officer(s):")
    assert not officer.text.startswith("Report of:")
    # And a table of long cells under column names keeps a passage per cell.
    assert find(corpus, "Do use secure passwords").text.startswith("Do use secure passwords")


def test_two_column_leaflet_reads_in_order(corpus):
    protocol = [p for p in corpus.passages if p.document.id == "coventry-protocol-2018"]
    sections = [p.section_path for p in protocol]
    assert sections[:3] == [
        "Purpose of this protocol",
        "What is social media?",
        "Social media and elected members",
    ]
    benefits = [p.text for p in protocol if p.section_path == "Benefits of using social media"]
    assert benefits == [
        "Social media is a useful tool for elected members by:",
        "Campaigning on local issues",
        "Supporting councillors in performing their community leadership role",
        "Keeping in touch with local views, concerns, interests and opinions",
        (
            "Providing an effective and relatively cheap way of making the electorate more aware "
            "of the work you do"
        ),
        "Providing a platform for political campaigning",
    ]
    # Each section's passages are together: a section never resumes after another one.
    runs = [s for i, s in enumerate(sections) if i == 0 or sections[i - 1] != s]
    assert len(runs) == len(set(runs))


def test_markup_is_removed_but_words_are_kept(corpus):
    libel = find(corpus, "Libel – if you publish an untrue statement")
    assert "*" not in libel.text
    recommendation = find(corpus, "It is recommended that the Constitution and Ethics Committee")
    assert "<" not in recommendation.text and "1. Agrees the Social Media Code" in recommendation.text


# --------------------------------------------------------------------------- bad input


@pytest.fixture
def corpus_copy(tmp_path):
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


def edit_metadata(folder, change):
    path = folder / "documents.yml"
    meta = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(meta)
    path.write_text(yaml.safe_dump(meta, allow_unicode=True), encoding="utf-8")


def test_a_file_without_metadata_is_named(corpus_copy):
    (corpus_copy / "005_new.txt").write_text("New guidance\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="no metadata for.*005_new.txt"):
        load_corpus(corpus_copy)


def test_invalid_yaml_names_file_and_line(corpus_copy):
    path = corpus_copy / "documents.yml"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[30] = "  broken: [unclosed"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(CorpusError, match=r"documents\.yml:\d+: not valid YAML"):
        load_corpus(corpus_copy)


def test_non_utf8_text_names_file_and_line(corpus_copy):
    path = corpus_copy / "003_6b8361dd5dfc6952.txt"
    path.write_bytes(path.read_bytes().replace(b"Meeting Date", b"Meeting \xff Date"))
    with pytest.raises(CorpusError, match=r"003_6b8361dd5dfc6952\.txt:5: not UTF-8"):
        load_corpus(corpus_copy)


def test_unknown_council_is_reported(corpus_copy):
    edit_metadata(corpus_copy, lambda m: m["files"]["003_6b8361dd5dfc6952.txt"].update(council="cambs"))
    with pytest.raises(CorpusError, match="council 'cambs' is not one of"):
        load_corpus(corpus_copy)


def test_noise_that_is_not_there_is_reported(corpus_copy):
    edit_metadata(
        corpus_copy,
        lambda m: m["files"]["001_2f465f5752efa0e8.txt"]["noise"].append(
            {"line": "No such line", "reason": "x"}
        ),
    )
    with pytest.raises(CorpusError, match="001_2f465f5752efa0e8.txt: noise line not found: 'No such line'"):
        load_corpus(corpus_copy)


def test_a_reading_order_must_name_every_line_once(corpus_copy):
    edit_metadata(
        corpus_copy, lambda m: m["files"]["004_96f4eab3354f7b1d.txt"].update(reading_order=["1-20", "30-"])
    )
    with pytest.raises(CorpusError, match=r"reading_order must name every line once \(missing \[21"):
        load_corpus(corpus_copy)


def test_a_new_document_needs_only_a_file_and_metadata(corpus_copy):
    (corpus_copy / "005_example.txt").write_text(
        "EXAMPLE COUNCIL SOCIAL MEDIA NOTE\n\n1. Posting\n\n- 1.1 Members should think before they post.\n",
        encoding="utf-8",
    )

    def add(meta):
        meta["councils"]["example"] = {
            "name": "Example District Council",
            "contacts": "the Monitoring Officer",
        }
        meta["files"]["005_example.txt"] = {
            "council": "example",
            "documents": [
                {
                    "id": "example-note-2024",
                    "title": "Social Media Note",
                    "kind": "guidance",
                    "date": "2024-01-01",
                    "status": "adopted",
                }
            ],
        }

    edit_metadata(corpus_copy, add)
    passage = find(load_corpus(corpus_copy), "Members should think before they post.")
    assert passage.section_path == "1. Posting › 1.1"
    assert passage.document.council.name == "Example District Council"


def test_passage_questions_are_attached_to_their_passages(corpus):
    asked = {p.id: p.questions for p in corpus.passages}
    assert sum(1 for q in asked.values() if q) >= 200
    assert find(corpus, "Do not blog or tweet in haste").questions


def test_a_passage_question_for_an_unknown_passage_names_file_and_line(corpus_copy):
    path = corpus_copy / "passage_questions.yml"
    path.write_text(path.read_text(encoding="utf-8") + '\nno-such-passage:\n  - "Can I?"\n', encoding="utf-8")
    line = len(path.read_text(encoding="utf-8").split("\n")) - 2
    with pytest.raises(
        CorpusError, match=rf"passage_questions\.yml:{line}: no passage has the id 'no-such-passage'"
    ):
        load_corpus(corpus_copy)


def test_passage_questions_must_be_a_list_of_text(corpus_copy):
    path = corpus_copy / "passage_questions.yml"
    passage_id = find(load_corpus(corpus_copy), "Do not blog or tweet in haste").id
    path.write_text(f"{passage_id}: just one question\n", encoding="utf-8")
    with pytest.raises(
        CorpusError, match=rf"passage_questions\.yml:1: {passage_id} needs a list of questions"
    ):
        load_corpus(corpus_copy)
