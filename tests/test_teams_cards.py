"""Teams cards rendered as Teams renders them (tests/adaptive_cards.py): every kind of reply is
one card the Adaptive Cards parser and validator accept, and a passage full of Markdown's
punctuation shows exactly as written, line by line."""

import pytest

from adaptive_cards import card_renderer
from channels.cards import NOT_ADDRESSED, turn_card

pytestmark = pytest.mark.browser  # renders the cards in Chromium

# Every construct Markdown could take from a passage: emphasis, a link, HTML, an entity, a
# backslash, a table cell, strikethrough, Adaptive Cards' date function, and, at the start of a
# line, a numbered item, a bullet, a heading, a quote and a setext underline.
PASSAGE = (
    "Do *not* use _private_ accounts; see [x](y) or <b>this</b> &amp; Y:\\Comms | ~~old~~ "
    "{{DATE(2019-01-01T00:00:00Z)}}\n"
    "1. Councillors must be clear.\n"
    "- Never post after a drink.\n"
    "# Not a heading\n"
    "2) Second item\n"
    "+ plus\n"
    "> not a quote\n"
    "==="
)
CITATION = "Test Council, Code *for* Members (2019), 1. Key [Principles](#) › <i>Avoid</i>"
QUESTION = "Can I post **this** <img src=x> [here](http://x)?"
QUOTE = {"text": PASSAGE, "council": "Test Council", "citation": CITATION}
BUTTONS = [
    {"title": "Full section", "payload": "/full_section"},
    {"title": "Helpful", "payload": "/feedback_good"},
]

TURNS = {
    "answer": [
        {"text": f"“{PASSAGE}”\n— {CITATION}"},
        {"text": f"Other Council also says:\n“{PASSAGE} again”\n— {CITATION}"},
        {
            "custom": {
                "type": "answer",
                "question": QUESTION,
                "quotes": [QUOTE, {**QUOTE, "council": "Other Council", "text": PASSAGE + " again"}],
            },
            "buttons": BUTTONS,
        },
    ],
    "full section": [
        {"text": f"The whole of 1. Key *Principles*:\n“{PASSAGE}”\n“Second.”\n— {CITATION}"},
        {
            "custom": {
                "type": "section",
                "section": "1. Key *Principles*",
                "citation": CITATION,
                "passages": [{"text": PASSAGE}, {"text": "Second."}],
            }
        },
    ],
    "comparison": [
        {"text": f"Test Council:\n“{PASSAGE}”\n— {CITATION}"},
        {"text": "Other Council: the guidance I have from this council does not address this."},
        {
            "custom": {
                "type": "comparison",
                "question": QUESTION,
                "councils": [
                    {"council": "Test Council", "addressed": True, **QUOTE},
                    {"council": "Other Council", "addressed": False},
                ],
            }
        },
    ],
    "not covered": [
        {"text": "The guidance does not cover that. Please ask your Monitoring Officer."},
        {"custom": {"type": "not_covered", "question": QUESTION, "contacts": "your Monitoring Officer"}},
    ],
    "welcome": [{"text": "Hello. I answer questions about what councillors may post on social media."}],
    "help": [
        {
            "text": 'You can ask me:\n- "Can I comment on a planning application?"\n'
            '- "Is it OK to tweet after a drink?"'
        }
    ],
}


@pytest.fixture(scope="module")
def rendered():
    """Each turn's card and its rendering."""
    with card_renderer() as renderer:
        turns = {**TURNS, "quiz": quiz_turn()[1]}
        yield {
            name: (turn_card(turn), renderer.render(turn_card(turn)["attachments"][0]["content"]))
            for name, turn in turns.items()
        }


def card_of(activity):
    [attachment] = activity["attachments"]
    return attachment["content"]


@pytest.mark.parametrize("name", list(TURNS))
def test_each_reply_is_one_card_the_renderer_accepts(rendered, name):
    activity, rendering = rendered[name]
    card = card_of(activity)
    assert card["version"] == "1.4" and card["fallbackText"] and activity["summary"]
    assert rendering["problems"] == []
    assert rendering["markup"] == 0, "no text became a link, list, heading or emphasis"


@pytest.mark.parametrize("name", ["answer", "full section", "comparison"])
def test_quotes_and_citations_render_byte_for_byte_a_paragraph_per_line(rendered, name):
    activity, rendering = rendered[name]
    blocks = rendering["blocks"]
    quotes = [blocks[i] for i in sorted(blocks) if i.startswith("quote-")]
    citations = [blocks[i] for i in sorted(blocks) if i.startswith("citation-")]
    assert quotes[0]["paragraphs"] == f"“{PASSAGE}”".split("\n")
    assert all(c["paragraphs"] == [f"— {CITATION}"] for c in citations) and citations


def test_the_members_question_and_headings_render_as_written(rendered):
    text = rendered["comparison"][1]["text"]
    assert f"What each council's guidance says on “{QUESTION}”:" in text
    assert NOT_ADDRESSED in text
    assert "The whole of 1. Key *Principles*:" in rendered["full section"][1]["text"]


def test_plain_texts_keep_their_lines(rendered):
    text = rendered["help"][1]["text"]
    assert text.split("\n\n") == TURNS["help"][0]["text"].split("\n")


def test_buttons_render_as_buttons(rendered):
    assert rendered["answer"][1]["buttons"] == ["Full section", "Helpful"]


def quiz_turn():
    """An answered quiz question and the next one, as bot/quiz.py sends them."""
    from pathlib import Path

    from bot import quiz
    from bot.corpus import load_corpus

    root = Path(__file__).resolve().parent.parent
    content = quiz.load_for(load_corpus(root / "corpus").passages, root / "corpus")
    state = {"ids": [content.scenarios[0].id, content.scenarios[1].id], "at": 0, "right": 0, "missed": []}
    state, messages = quiz.answer(content, state, quiz.answer_payload(content.scenarios[0], 0))
    return content, messages


def test_a_quiz_turn_is_one_card_with_the_verdict_the_quote_and_the_options_as_buttons(rendered):
    content, messages = quiz_turn()
    first, second = content.scenarios[:2]
    activity, rendering = rendered["quiz"]
    card = card_of(activity)
    assert rendering["problems"] == [] and rendering["markup"] == 0
    assert rendering["buttons"] == ["A", "B", "C"]
    assert [a["data"]["payload"] for a in card["actions"]] == [
        messages[-2]["buttons"][i]["payload"] for i in range(3)
    ]
    assert [a["data"]["msteams"]["displayText"] for a in card["actions"]] == [
        f"{letter}. {option}" for letter, option in zip("ABC", second.options)
    ]
    blocks = rendering["blocks"]
    assert blocks["quote-1"]["paragraphs"] == f"“{first.passages[0].text}”".split("\n")
    assert blocks["citation-1"]["paragraphs"][0].startswith(f"— {first.passages[0].document.council.name}")
    text = rendering["text"]
    assert ("Right." if first.right == 0 else "Not quite: the answer is") in text
    assert "Question 2 of 2" in text and second.question in text
    for letter, option in zip("ABC", second.options):
        assert f"{letter}. {option}" in text
    assert text.count(first.passages[0].text) == 1, "the quote is shown once"
