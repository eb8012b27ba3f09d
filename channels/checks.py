"""What every channel does with a message before the bot sees it.

An empty message, one longer than the limit (BOT_MAX_MESSAGE_CHARS, default 2,000 characters),
or one not in English (bot/language.py) is not passed on: the member gets a short explanation
instead, on the channel they used, and the conversation carries on as before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage

from bot.config import settings
from bot.language import english, is_button

EMPTY_MESSAGE = "I didn't receive any words. Please type your question about social media."
TOO_LONG = (
    "Your message is {length:,} characters long, and I can read at most {limit:,}. "
    "Please ask your question in fewer words."
)
NOT_ENGLISH = (
    "I couldn't recognise enough English words in that. I can only read questions in English: "
    "please ask again in full words."
)

Handler = Callable[[UserMessage], Awaitable[Any]]


def refusal(text: str | None) -> str | None:
    """Why the message cannot be read (the reply to send instead), or None if it can."""
    limit = settings().max_message_chars
    if not text or not text.strip():
        return EMPTY_MESSAGE
    if len(text) > limit:
        return TOO_LONG.format(length=len(text), limit=limit)
    if not is_button(text) and not english().is_english(text):
        return NOT_ENGLISH
    return None


def checked(on_new_message: Handler) -> Handler:
    """`on_new_message`, answering unreadable messages itself."""
    english()  # load the word lists now, at start-up, rather than on a member's first message

    async def handle(message: UserMessage) -> Any:
        reason = refusal(message.text)
        if reason is None:
            return await on_new_message(message)
        await message.output_channel.send_text_message(message.sender_id, reason)

    return handle
