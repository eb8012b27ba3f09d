"""The action server's one route beside rasa-sdk's own: POST /prefetch.

The Rasa server sends each member's message here as it arrives (scripts/rasa_server.py), and
reads it (NLU, about 10 ms) while the action server prepares and embeds it on the other core, so
that when the answer action asks about the same text the question's embedding is already done.
Only the time a member waits changes: answers are the same, because the action computes them
as before, from the same cached embedding or afresh.

rasa-sdk loads this package, when it can import it, as it starts (rasa_sdk/plugin.py).

    POST /prefetch  {"text": "Can I block someone on Twitter?"}
    -> 200 {"embedded": true}   (false: already done, or nothing to embed)
    -> 400 {"error": "..."}     (no text, or longer than BOT_MAX_MESSAGE_CHARS)
"""

from __future__ import annotations

import sys

import pluggy
from sanic import Sanic, response
from sanic.exceptions import InvalidUsage
from sanic.request import Request

from bot.config import settings

hookimpl = pluggy.HookimplMarker("rasa_sdk")


def init_hooks(manager: pluggy.PluginManager) -> None:
    manager.register(sys.modules[__name__])


def problem(body: object) -> str | None:
    """What is wrong with a /prefetch request's body, or None."""
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str):
        return 'the body must be a JSON object with the message as "text"'
    limit = settings().max_message_chars
    if len(text) > limit:
        return f"the text is {len(text):,} characters long; at most {limit:,} are read"
    return None


@hookimpl
def attach_sanic_app_extensions(app: Sanic) -> None:
    from actions.actions import searcher  # loaded by rasa-sdk before its plugins

    @app.post("/prefetch")
    async def prefetch(request: Request) -> response.HTTPResponse:
        try:
            body = request.json
        except InvalidUsage:  # not JSON
            body = None
        error = problem(body)
        if error:
            return response.json({"error": error}, status=400)
        return response.json({"embedded": searcher().embed_ahead(body["text"])})
