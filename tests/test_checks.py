"""The check every channel makes before the bot sees a message (channels/checks.py)."""

import asyncio

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from channels.checks import EMPTY_MESSAGE, NOT_ENGLISH, checked


def handled(text):
    """(what reached the bot, what the member was sent) for one message."""
    reached = []

    async def bot(message):
        reached.append(message.text)

    output = CollectingOutputChannel()
    asyncio.run(checked(bot)(UserMessage(text, output, "member")))
    return reached, [m["text"] for m in output.messages]


def test_a_question_reaches_the_bot_untouched():
    assert handled("Can I tweet after a drink?") == (["Can I tweet after a drink?"], [])


def test_the_limit_is_2000_characters():
    assert handled("x" * 2000) == (["x" * 2000], [])
    assert handled("x" * 2001) == (
        [],
        [
            "Your message is 2,001 characters long, and I can read at most 2,000. "
            "Please ask your question in fewer words."
        ],
    )


def test_empty_messages_are_explained():
    for text in ("", "  \n", None):
        assert handled(text) == ([], [EMPTY_MESSAGE])


def test_a_question_in_another_language_is_told_english_only():
    assert handled("Puis-je publier sur Facebook après avoir bu ?") == ([], [NOT_ENGLISH])
    assert handled("/full_section") == (["/full_section"], [])
