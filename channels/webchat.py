"""The chat widget's channel: Rasa's socket.io channel, with the web pages allowed to connect
taken from configuration, and made to work with the python-socketio that Rasa 3.6 installs.

Served at /socket.io, as Rasa's `socketio` channel is. Compared with that channel:

- only web pages of the origins listed in `cors_allowed_origins` (credentials.yml, from
  CORS_ORIGINS) may connect. Rasa switches python-socketio's origin check off, leaving CORS to the
  Rasa server's `--cors`; but browsers apply CORS to HTTP requests only, so any web page could
  talk to the bot through a member's browser over a websocket. (Switching python-socketio's check
  back on would send every CORS header twice, once from it and once from `--cors`.)
- `session_request` joins the session's room for real: Rasa 3.6 calls python-socketio 5's
  `enter_room` coroutine without awaiting it, so with session persistence no reply ever arrived;
- a custom payload arrives as `{"custom": {...}}`, as the REST channel sends it: Rasa 3.6 passes
  its keys to `emit` as arguments, which fails for any payload but `{"data": ...}`;
- buttons without text arrive as quick replies (Rasa 3.6 fails on them);
- an empty or over-long message gets an explanation instead of an answer (channels/checks.py);
- a malformed message or session request is logged and ignored, and a session id must look like
  the ones the server hands out (32 hex digits), so no client can join another channel's
  conversation by naming its sender id.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint
from socketio.exceptions import ConnectionRefusedError

from channels.checks import checked
from channels.rasa_version import require_rasa

require_rasa("The web chat's socket.io room join and custom payloads (channels/webchat.py)")

logger = logging.getLogger(__name__)

SESSION_ID = re.compile(r"[0-9a-f]{32}")


def parse_origins(value: Any) -> list[str]:
    """The web origins (`https://intranet.example.gov.uk`) in a space- or comma-separated list.
    `*` allows every origin. Anything else that is not scheme://host[:port] is refused."""
    origins = []
    for origin in re.split(r"[\s,]+", str(value or "").strip()):
        if not origin:
            continue
        origin = origin.rstrip("/")
        parts = urlsplit(origin)
        if origin != "*" and (parts.scheme not in ("http", "https") or not parts.netloc or parts.path):
            raise ValueError(
                f"web chat: {origin!r} in CORS_ORIGINS is not a web origin such as "
                "https://intranet.example.gov.uk (scheme, host and optional port, nothing more)"
            )
        origins.append(origin)
    return origins


class WebChatOutput(SocketIOOutput):
    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"custom": json_message})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str | None, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        if text:
            await super().send_text_with_buttons(recipient_id, text, buttons, **kwargs)
            return
        quick_replies = [
            {"content_type": "text", "title": b["title"], "payload": b.get("payload", b["title"])}
            for b in buttons
        ]
        await self._send_message(recipient_id, {"text": "", "quick_replies": quick_replies})


class WebChatInput(SocketIOInput):
    """Rasa's socket.io input channel with the changes above."""

    origins: list[str] = []  # the web origins allowed to connect (from_credentials sets them)

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WebChatInput:
        credentials = credentials or {}
        channel = super().from_credentials(credentials)
        channel.origins = parse_origins(credentials.get("cors_allowed_origins"))
        if not channel.origins:
            logger.warning("web chat: CORS_ORIGINS is empty, so no web page can reach the chat")
        return channel

    def allows(self, origin: str) -> bool:
        return "*" in self.origins or origin in self.origins

    def get_output_channel(self) -> WebChatOutput | None:
        if self.sio is None:
            return super().get_output_channel()
        return WebChatOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        on_new_message = checked(on_new_message)
        blueprint = super().blueprint(on_new_message)
        sio = self.sio
        rasa_connect = sio.handlers[self.namespace or "/"]["connect"]

        # Registering these events again replaces Rasa's handlers.
        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: str, environ: dict, auth: dict | None = None) -> bool:
            origin = environ.get("HTTP_ORIGIN")  # browsers always send it; other clients need not
            if origin and not self.allows(origin):
                logger.warning("web chat: connection refused: %s is not in CORS_ORIGINS", origin)
                raise ConnectionRefusedError("this web page may not use the chat")
            return await rasa_connect(sid, environ, auth)

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Any) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            if isinstance(requested, str) and SESSION_ID.fullmatch(requested):
                session_id = requested
            else:
                if requested is not None:
                    logger.warning("web chat: session id %r refused; a new session starts", requested)
                session_id = uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: Any) -> None:
            problem = message_problem(data, self.metadata_key, self.session_persistence)
            if problem:
                logger.warning("web chat: message ignored: %s", problem)
                return
            sender_id = data["session_id"] if self.session_persistence else sid
            message = UserMessage(
                data["message"],
                self.get_output_channel(),
                sender_id,
                input_channel=self.name(),
                metadata=data.get(self.metadata_key) or {},
            )
            await on_new_message(message)

        return blueprint


def message_problem(data: Any, metadata_key: str, session_persistence: bool) -> str | None:
    """Why a `user_uttered` event cannot be handled, or None if it can."""
    if not isinstance(data, dict):
        return "not a JSON object"
    if not isinstance(data.get("message"), str):
        return "no text in `message`"
    if session_persistence and not (
        isinstance(data.get("session_id"), str) and SESSION_ID.fullmatch(data["session_id"])
    ):
        return "no valid `session_id`; send `session_request` first"
    if not isinstance(data.get(metadata_key) or {}, dict):
        return f"`{metadata_key}` is not a JSON object"
    return None
