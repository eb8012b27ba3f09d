"""What one turn of the assistant looks like in Microsoft Teams.

The input is the turn's bot messages as Rasa hands them to a channel (`{"text": ..., "buttons":
[...], "custom": {...}, "image": ...}`); the output is Bot Framework message activities, not yet
addressed. An answer becomes one Adaptive Card: each quoted passage verbatim, its citation beneath
it in small subtle type, and the buttons as actions that send their payload back. Nothing here
knows of Rasa or HTTP.
"""

from __future__ import annotations

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


def text_block(text: str, **style) -> dict:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def quote_blocks(quote: dict, first: bool) -> list[dict]:
    """A quoted passage with its citation; passages after the first say whose they are."""
    intro = [] if first else [
        text_block(f"{quote['council']} also says:", weight="Bolder", separator=True, spacing="Large")
    ]
    return intro + [
        text_block(f"“{quote['text']}”"),
        text_block(f"— {quote['citation']}", size="Small", isSubtle=True, spacing="Small"),
    ]


def button_action(button: dict) -> dict:
    """A Rasa button as a card action. Clicking it sends the payload to the bot as the user's
    message (messageBack), while the chat shows the button's title."""
    title = button.get("title") or button["payload"]
    payload = button.get("payload") or title
    return {
        "type": "Action.Submit",
        "title": title,
        "data": {
            "payload": payload,
            "msteams": {"type": "messageBack", "text": payload, "displayText": title},
        },
    }


def adaptive_card(body: list[dict], actions: list[dict]) -> dict:
    """A message activity carrying one Adaptive Card (version 1.4, which Teams renders)."""
    content = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "body": body,
        "actions": actions,
        "msteams": {"width": "Full"},
    }
    return {"type": "message", "attachments": [{"contentType": ADAPTIVE_CARD, "content": content}]}


def is_answer(custom: object) -> bool:
    return isinstance(custom, dict) and custom.get("type") == "answer"


def repeats_a_quote(text: str, quotes: list[dict]) -> bool:
    """Whether a text message is the plain-text form of a quote the card already shows."""
    return any(q["text"] in text and q["citation"] in text for q in quotes)


def turn_activities(messages: list[dict], as_card: bool = False) -> list[dict]:
    """The message activities that show one turn's messages.

    A turn with an answer, buttons or an image (or any turn, if `as_card`) becomes one Adaptive
    Card, with the quotes where the answer's structured payload stands; the plain-text copies of
    those quotes are left out. Any other turn goes as plain text messages, each whole: a message
    is never split at its blank lines. Other custom payloads (a "not covered" answer) repeat what
    the turn's text says and add nothing to show.
    """
    quotes = [q for m in messages if is_answer(m.get("custom")) for q in m["custom"]["quotes"]]
    body, actions, texts = [], [], []
    for message in messages:
        text = message.get("text")
        if text and not repeats_a_quote(text, quotes):
            body.append(text_block(text))
            texts.append(text)
        if message.get("image"):
            body.append({"type": "Image", "url": message["image"], "altText": text or ""})
        if is_answer(message.get("custom")):
            for i, quote in enumerate(message["custom"]["quotes"]):
                body += quote_blocks(quote, first=i == 0)
        buttons = message.get("buttons") or message.get("quick_replies") or []
        actions += [button_action(b) for b in buttons]

    if as_card or quotes or actions or len(body) > len(texts):
        return [adaptive_card(body, actions)] if body or actions else []
    return [{"type": "message", "text": text} for text in texts]
