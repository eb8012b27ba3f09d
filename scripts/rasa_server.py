"""`rasa run` as this project runs it: the HTTP API switched on and protected by the token in
RASA_API_TOKEN, custom action results checked without re-checking their schema each time, the
connections to the action server kept open from one action to the next, and each member's
message sent ahead to the action server, to embed while the Rasa server reads it.

The token is handed to Rasa here, inside the process, rather than on the command line, where any
user of the machine could read it. scripts/run.sh starts the Rasa server through this script.
"""

import http.client
import json
import logging
import os
import queue
import sys
import threading
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import jsonschema
from rasa.__main__ import main
from rasa.core.actions.action import RemoteAction
from rasa.core.processor import MessageProcessor
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project's packages
from bot.language import is_button  # noqa: E402
from channels.rasa_version import require_rasa  # noqa: E402

require_rasa("The action-result schema check (scripts/rasa_server.py, RemoteAction._validate_action_result)")
require_rasa("The action server connections kept open (scripts/rasa_server.py, EndpointConfig.session)")
require_rasa("Messages sent ahead (scripts/rasa_server.py, MessageProcessor.handle_message)")

logger = logging.getLogger(__name__)

MIN_TOKEN_LENGTH = 16


def compiled(schema: dict) -> jsonschema.protocols.Validator:
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)
    return validator(schema)


@lru_cache(maxsize=1)
def action_result_validators() -> tuple[jsonschema.protocols.Validator, dict]:
    """Rasa's schema of an action's reply, checked once and split: the reply without its events'
    details, and each kind of event on its own. Rasa's schema says an event must match exactly
    one of the kinds (`oneOf`), and each kind names its own `event`, so checking an event against
    the kind it names is the same check, made once instead of 23 times."""
    schema = RemoteAction.action_response_format_spec()
    events = schema["properties"]["events"]
    kinds = events["items"]
    reply = {**schema, "properties": {**schema["properties"], "events": {"type": events["type"]}}}
    common = {key: value for key, value in kinds.items() if key != "oneOf"}
    by_name = {k["properties"]["event"]["const"]: compiled({"allOf": [common, k]}) for k in kinds["oneOf"]}
    if len(by_name) != len(kinds["oneOf"]):
        raise RuntimeError("Rasa's action reply schema has two kinds of event of one name")
    return compiled(reply), by_name


def valid_action_result(result: object) -> bool:
    reply, by_name = action_result_validators()
    if not reply.is_valid(result):
        return False
    for event in result.get("events") or []:
        check = by_name.get(event.get("event")) if isinstance(event, dict) else None
        if check is None or not check.is_valid(event):
            return False
    return True


def validate_action_result(action: RemoteAction, result: dict) -> bool:
    """Rasa 3.6 validates the action server's reply with `jsonschema.validate`, which checks the
    (unchanging) schema itself first: about 35 ms per custom action, more than the action takes.
    Here the checked schema is kept, and each event checked against its own kind only (about a
    millisecond less again); a reply that fails goes through Rasa's own check, so the
    error is the one Rasa reports."""
    if valid_action_result(result):
        return True
    return rasa_validate_action_result(action, result)


rasa_validate_action_result = RemoteAction._validate_action_result
RemoteAction._validate_action_result = validate_action_result

# Seconds an unused connection stays open: less than the action server's 5 (Sanic's
# KEEP_ALIVE_TIMEOUT), so a connection is never reused just as the action server closes it.
KEEP_ALIVE = 2.0


class OpenSession:
    """A client session that `async with` leaves open, as `EndpointConfig.request` uses it."""

    def __init__(self, session: aiohttp.ClientSession):
        self.session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self.session

    async def __aexit__(self, *exc_info) -> None:
        return None


def kept_session(endpoint: EndpointConfig) -> OpenSession:
    """Rasa 3.6 opens a client session, and so a new connection, for every request to an endpoint
    (every custom action), and closes it after: a few milliseconds of each answer, on both
    servers. Here each endpoint keeps one session, made as Rasa makes it, and reuses its
    connections."""
    session = endpoint.__dict__.get("kept_session")
    if session is None or session.closed:
        credentials = endpoint.basic_auth
        auth = aiohttp.BasicAuth(credentials["username"], credentials["password"]) if credentials else None
        session = endpoint.kept_session = aiohttp.ClientSession(
            headers=endpoint.headers,
            auth=auth,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(keepalive_timeout=KEEP_ALIVE),
        )
    return OpenSession(session)


EndpointConfig.session = kept_session

# Messages waiting to be sent ahead; more are not sent (their actions embed them as before).
PREFETCH_PENDING = 8
PREFETCH_TIMEOUT = 5.0  # seconds


class Prefetcher:
    """Sends messages to the action server's POST /prefetch (rasa_sdk_plugins/) from a thread of
    its own, one at a time over one kept connection, so that the Rasa server never waits for it.
    A message that cannot be sent is dropped: its answer action embeds it, as it would anyway."""

    def __init__(self, url: str, headers: dict | None = None):
        self.address = urlsplit(url)
        self.path = self.address.path.rsplit("/", 1)[0] + "/prefetch"
        self.headers = {**(headers or {}), "Content-Type": "application/json"}
        self.pending: queue.Queue[str] = queue.Queue(PREFETCH_PENDING)
        self.connection: http.client.HTTPConnection | None = None
        threading.Thread(target=self.send_all, name="prefetch", daemon=True).start()

    def __call__(self, text: str | None) -> None:
        if not text or not text.strip() or is_button(text):
            return
        try:
            self.pending.put_nowait(text)
        except queue.Full:
            pass

    def send_all(self) -> None:
        while True:
            text = self.pending.get()
            body = json.dumps({"text": text})
            # A kept connection the action server has since closed fails at once: try a new one.
            for attempt in range(2):
                try:
                    self.send(body)
                    break
                except Exception as problem:  # whatever it is, the member's message goes on
                    if self.connection is not None:
                        self.connection.close()
                    self.connection = None
                    if attempt:
                        logger.debug("could not send a message ahead to the action server: %s", problem)

    def send(self, body: str) -> None:
        if self.connection is None:
            https = self.address.scheme == "https"
            kind = http.client.HTTPSConnection if https else http.client.HTTPConnection
            self.connection = kind(self.address.hostname, self.address.port, timeout=PREFETCH_TIMEOUT)
        self.connection.request("POST", self.path, body=body, headers=self.headers)
        self.connection.getresponse().read()


def prefetcher(endpoint: EndpointConfig) -> Prefetcher:
    """The endpoint's prefetcher, started on first use."""
    found = endpoint.__dict__.get("prefetcher")
    if found is None:
        found = endpoint.prefetcher = Prefetcher(endpoint.url, endpoint.headers)
    return found


async def handle_message(processor: MessageProcessor, message, *args, **kwargs):
    if processor.action_endpoint is not None:
        prefetcher(processor.action_endpoint)(message.text)
    return await rasa_handle_message(processor, message, *args, **kwargs)


rasa_handle_message = MessageProcessor.handle_message
MessageProcessor.handle_message = handle_message

if __name__ == "__main__":
    token = os.environ.get("RASA_API_TOKEN", "")
    if len(token) < MIN_TOKEN_LENGTH:
        sys.exit(f"error: RASA_API_TOKEN must be at least {MIN_TOKEN_LENGTH} characters long")
    # One argument, so that a token starting with "-" is not taken for an option.
    sys.argv = ["rasa", "run", *sys.argv[1:], "--enable-api", f"--auth-token={token}"]
    sys.exit(main())
