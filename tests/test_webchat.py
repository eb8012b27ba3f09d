"""The chat widget's socket.io channel: its settings and what it accepts, without a server."""

import asyncio

import pytest

from channels.webchat import WebChatInput, WebChatOutput, message_problem, parse_origins

SESSION = "0123456789abcdef0123456789abcdef"


def test_origins_are_read_from_a_space_or_comma_separated_list():
    assert parse_origins("http://localhost:8080 https://intranet.example.gov.uk/,https://x.example:8443") == [
        "http://localhost:8080",
        "https://intranet.example.gov.uk",
        "https://x.example:8443",
    ]
    assert parse_origins("") == [] and parse_origins(None) == []
    assert parse_origins("*") == ["*"]


@pytest.mark.parametrize("bad", ["localhost:8080", "ftp://x.example", "https://x.example/chat", "https://"])
def test_a_bad_origin_is_refused_with_a_clear_message(bad):
    with pytest.raises(ValueError, match="is not a web origin such as https://"):
        parse_origins(bad)


def test_the_channel_takes_its_origins_and_rasa_settings_from_credentials():
    channel = WebChatInput.from_credentials(
        {
            "session_persistence": True,
            "metadata_key": "metadata",
            "cors_allowed_origins": "http://localhost:8080",
        }
    )
    assert channel.origins == ["http://localhost:8080"]
    assert channel.session_persistence and channel.metadata_key == "metadata"
    assert channel.name() == "socketio"
    assert channel.allows("http://localhost:8080") and not channel.allows("http://evil.example")
    assert WebChatInput.from_credentials({"cors_allowed_origins": "*"}).allows("http://evil.example")


@pytest.mark.parametrize(
    "data, problem",
    [
        ({"message": "hi", "session_id": SESSION, "metadata": {"council": "coventry"}}, None),
        ({"message": "hi", "session_id": SESSION}, None),
        ("hi", "not a JSON object"),
        ({"session_id": SESSION}, "no text in `message`"),
        ({"message": 42, "session_id": SESSION}, "no text in `message`"),
        ({"message": "hi"}, "no valid `session_id`; send `session_request` first"),
        (
            {"message": "hi", "session_id": "teams-conversation-id"},
            "no valid `session_id`; send `session_request` first",
        ),
        ({"message": "hi", "session_id": SESSION, "metadata": "coventry"}, "`metadata` is not a JSON object"),
    ],
)
def test_a_malformed_message_is_named_not_handled(data, problem):
    assert message_problem(data, "metadata", session_persistence=True) == problem


class RecordingServer:
    """Stands in for python-socketio's server: records what the channel emits."""

    def __init__(self):
        self.emitted = []

    async def emit(self, event, data=None, room=None, **kwargs):
        self.emitted.append((event, data, room))


def test_custom_payloads_and_buttons_without_text_reach_the_widget():
    server = RecordingServer()
    buttons = [{"title": "Full section", "payload": "/full_section"}]
    message = {"text": None, "buttons": buttons, "custom": {"type": "answer", "quotes": []}}
    asyncio.run(WebChatOutput(server, "bot_uttered").send_response("session", message))
    assert server.emitted == [
        ("bot_uttered", {"text": "", "quick_replies": [{"content_type": "text", **buttons[0]}]}, "session"),
        ("bot_uttered", {"custom": {"type": "answer", "quotes": []}}, "session"),
    ]
