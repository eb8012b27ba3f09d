"""What one turn of the assistant looks like in Microsoft Teams: one Adaptive Card.

The input is the turn's bot messages as Rasa hands them to a channel (`{"text": ..., "buttons":
[...], "custom": {...}, "image": ...}`); the output is one Bot Framework message activity, not yet
addressed. The structured payloads of bot/answer.py (`answer`, `section`, `comparison`) are laid
out as quotes, each verbatim with its citation beneath it in small subtle type; their plain-text
copies are left out; every other text is shown as it is; buttons become actions that send their
payload back. Nothing here knows of Rasa or HTTP.

Teams reads every TextBlock as Markdown, so every string shown goes through `markdown_text`:
what Teams displays is then exactly the guidance's (or the member's) text, not a link, a list or
bold type made of its punctuation.
"""

from __future__ import annotations

import re

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
CARD_VERSION = "1.4"  # the newest version Teams renders everywhere (desktop, web, mobile)
SUMMARY_CHARS = 150  # a notification shows about this much
NOT_ADDRESSED = "The guidance I have from this council does not address this."

# Characters Markdown (CommonMark, as Teams and the adaptivecards renderer read it) may take for
# emphasis, code, links, HTML, entities, strikethrough or tables anywhere in a line; `{` keeps
# Adaptive Cards' {{DATE(...)}} functions from being applied to quoted text.
INLINE_MARKUP = re.compile(r"([\\`*_{}\[\]<>&|~])")
# At the start of a line: headings, block quotes, list items and setext underlines...
LINE_START_MARKUP = re.compile(r"^([ \t]*)([#>+=-])", re.MULTILINE)
# ...and numbered list items ("1." or "1)").
NUMBERED_ITEM = re.compile(r"^([ \t]*\d+)([.)])", re.MULTILINE)
LINE_BREAKS = re.compile(r"\n+")


def markdown_text(text: str) -> str:
    """`text` as Markdown that displays as exactly `text`.

    Markup characters are escaped with a backslash, which CommonMark shows as the character
    itself. A line break becomes a blank line: Teams runs single line breaks together into one
    paragraph, and shows a blank line as a new one.
    """
    escaped = INLINE_MARKUP.sub(r"\\\1", text.replace("\r\n", "\n"))
    escaped = NUMBERED_ITEM.sub(r"\1\\\2", LINE_START_MARKUP.sub(r"\1\\\2", escaped))
    return LINE_BREAKS.sub("\n\n", escaped)


def text_block(text: str, **style) -> dict:
    """A TextBlock showing `text` exactly as written."""
    return {"type": "TextBlock", "text": markdown_text(text), "wrap": True, **style}


def heading(text: str, first: bool = False) -> dict:
    """A bold line that starts a part of the card; parts after the first are set apart by a rule."""
    style = {} if first else {"separator": True, "spacing": "Large"}
    return text_block(text, weight="Bolder", **style)


def subtle(text: str) -> dict:
    return text_block(text, size="Small", isSubtle=True, spacing="Small")


class Blocks:
    """The card body being built; quotes and citations get ids (quote-1, citation-1, ...), so
    the same quote can be found in the card and in its rendering."""

    def __init__(self) -> None:
        self.body: list[dict] = []
        self.quotes = 0

    def add(self, *blocks: dict) -> None:
        self.body.extend(blocks)

    def quote(self, text: str) -> None:
        self.quotes += 1
        self.add({**text_block(f"“{text}”"), "id": f"quote-{self.quotes}"})

    def citation(self, citation: str) -> None:
        self.add({**subtle(f"— {citation}"), "id": f"citation-{self.quotes}"})


def add_answer(blocks: Blocks, payload: dict) -> None:
    """The best passage, then each other council's, each with its citation."""
    for i, quote in enumerate(payload["quotes"]):
        if i:
            blocks.add(heading(f"{quote['council']} also says:"))
        blocks.quote(quote["text"])
        blocks.citation(quote["citation"])


def add_section(blocks: Blocks, payload: dict) -> None:
    """The section's heading, each of its passages in order, and the one citation they share."""
    blocks.add(heading(f"The whole of {payload['section']}:", first=not blocks.body))
    for passage in payload["passages"]:
        blocks.quote(passage["text"])
    blocks.citation(payload["citation"])


def add_comparison(blocks: Blocks, payload: dict) -> None:
    """One part per council: its passage and citation, or plainly that it does not address this."""
    blocks.add(text_block(f"What each council's guidance says on “{payload['question']}”:"))
    for row in payload["councils"]:
        blocks.add(heading(row["council"]))
        if row.get("addressed"):
            blocks.quote(row["text"])
            blocks.citation(row["citation"])
        else:
            blocks.add(subtle(NOT_ADDRESSED))


def add_quiz_question(blocks: Blocks, payload: dict) -> None:
    """The scenario and its options, lettered; the buttons under the card carry the letters."""
    blocks.add(heading(f"Question {payload['number']} of {payload['of']}", first=not blocks.body))
    blocks.add(text_block(payload["question"]))
    for option in payload["options"]:
        blocks.add(text_block(f"{option['letter']}. {option['text']}", spacing="Small"))


def short_titles(payloads: list[dict]) -> dict[str, str]:
    """Buttons whose text the card's body shows in full (quiz options), titled by their letter."""
    return {
        option["payload"]: option["letter"]
        for payload in payloads
        if payload.get("type") == "quiz_question"
        for option in payload["options"]
    }


def add_quiz_feedback(blocks: Blocks, payload: dict) -> None:
    """The passages that settle the question, each with its citation."""
    for quote in payload["quotes"]:
        blocks.quote(quote["text"])
        blocks.citation(quote["citation"])


LAYOUTS = {
    "answer": add_answer,
    "section": add_section,
    "comparison": add_comparison,
    "quiz_question": add_quiz_question,
    "quiz_feedback": add_quiz_feedback,
}


def layout(custom: object):
    """How a structured payload is laid out, or None if its message's text says it all (a "not
    covered" reply) or it is not one of the assistant's."""
    return LAYOUTS.get(custom.get("type")) if isinstance(custom, dict) else None


def shown_texts(payload: dict) -> list[str]:
    """The passage texts a payload quotes."""
    items = payload.get("quotes") or payload.get("passages") or payload.get("councils") or []
    return [item["text"] for item in items if item.get("text")]


def is_copy(text: str, payloads: list[dict]) -> bool:
    """Whether a text message is the plain-text form of something a payload shows: it quotes one
    of its passages, or it is a comparison's line for a council."""
    for payload in payloads:
        if any(quoted in text for quoted in shown_texts(payload)):
            return True
        councils = [row["council"] for row in payload.get("councils") or []]
        if payload.get("type") == "comparison" and any(text.startswith(f"{c}:") for c in councils):
            return True
        if payload.get("type") == "quiz_question" and text.startswith(
            f"Question {payload['number']} of {payload['of']}:"
        ):
            return True
    return False


def button_action(button: dict, short_titles: dict[str, str] | None = None) -> dict:
    """A Rasa button as a card action. Clicking it sends the payload to the bot as the user's
    message (messageBack), while the chat shows the button's title. A button whose text the card
    already shows (`short_titles`, by payload) is titled briefly: Teams cuts long titles short."""
    title = button.get("title") or button["payload"]
    payload = button.get("payload") or title
    return {
        "type": "Action.Submit",
        "title": (short_titles or {}).get(payload, title),
        "data": {
            "payload": payload,
            "msteams": {"type": "messageBack", "text": payload, "displayText": title},
        },
    }


def summary(texts: list[str]) -> str:
    """What a notification of the card shows: the start of its first message, on one line."""
    first = " ".join(texts[0].split()) if texts else ""
    return first if len(first) <= SUMMARY_CHARS else first[: SUMMARY_CHARS - 1].rstrip() + "…"


def adaptive_card(body: list[dict], actions: list[dict], fallback: str, summary_text: str) -> dict:
    """A message activity carrying one Adaptive Card. `fallbackText` is the whole reply in plain
    text for a client that cannot show the card; the activity's `summary` is the notification."""
    content = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": body,
        "actions": actions,
        "fallbackText": fallback,
        "msteams": {"width": "Full"},
    }
    return {
        "type": "message",
        "summary": summary_text,
        "attachments": [{"contentType": ADAPTIVE_CARD, "content": content}],
    }


def turn_card(messages: list[dict]) -> dict | None:
    """The one message activity that shows a turn's messages, or None for an empty turn."""
    payloads = [m["custom"] for m in messages if layout(m.get("custom"))]
    blocks, actions, texts = Blocks(), [], []
    titles = short_titles(payloads)
    for message in messages:
        text = message.get("text")
        if text:
            texts.append(text)
            if not is_copy(text, payloads):
                blocks.add(text_block(text))
        if message.get("image"):
            blocks.add({"type": "Image", "url": message["image"], "altText": text or ""})
        add = layout(message.get("custom"))
        if add:
            add(blocks, message["custom"])
        buttons = message.get("buttons") or message.get("quick_replies") or []
        actions += [button_action(b, titles) for b in buttons]
    if not blocks.body and not actions:
        return None
    return adaptive_card(blocks.body, actions, "\n\n".join(texts), summary(texts))
