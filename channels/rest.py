"""Rasa's REST channel, at the same address (POST /webhooks/rest/webhook), refusing malformed
requests with a 4xx status and a reason instead of failing or answering silently.

A request must be JSON (Content-Type: application/json) holding an object with a non-empty
`sender` (the conversation id) and a text `message`; `metadata`, if given, must be an object.
Stock Rasa would file a request without a sender under the shared conversation "default", answer
a message that is not text with nothing, and fail with 500 on a body that is not an object.
Requests of other content types are refused too: a web page may send those to the bot from a
member's browser without the browser asking the server's CORS permission first.
"""

from __future__ import annotations

from typing import Any

from rasa.core.channels import rest
from sanic import Blueprint
from sanic.exceptions import InvalidUsage, SanicException
from sanic.request import Request

from channels.checks import Handler, checked
from channels.rasa_version import require_rasa

require_rasa("The REST channel's request checks (channels/rest.py, RestInput._extract_sender)")

EXAMPLE = '{"sender": "conversation-id", "message": "Can I tweet after a drink?"}'


class UnsupportedMediaType(SanicException):
    status_code = 415


def body(request: Request) -> dict[str, Any]:
    """The request's JSON object, checked; raises a 4xx error that says what is wrong."""
    if request.content_type.split(";")[0].strip().lower() != "application/json":
        raise UnsupportedMediaType(
            f"Send the message as JSON with Content-Type: application/json, like {EXAMPLE}"
        )
    try:
        data = request.json
    except InvalidUsage:
        raise InvalidUsage(f"The body is not valid JSON. Send an object like {EXAMPLE}") from None
    if not isinstance(data, dict):
        raise InvalidUsage(f"The body must be a JSON object like {EXAMPLE}")
    sender = data.get("sender")
    if not isinstance(sender, str) or not sender.strip():
        raise InvalidUsage('"sender" is missing or empty: give each conversation an id of its own (text).')
    if not isinstance(data.get("message"), str):
        raise InvalidUsage('"message" is missing or is not text.')
    if not isinstance(data.get("metadata", {}), (dict, type(None))):
        raise InvalidUsage('"metadata" must be a JSON object.')
    return data


class RestInput(rest.RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    async def _extract_sender(self, req: Request) -> str:
        return body(req)["sender"]

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        return super().blueprint(checked(on_new_message))
