"""`rasa run` as this project runs it: the HTTP API switched on and protected by the token in
RASA_API_TOKEN, custom action results checked without re-checking their schema each time, and
the connections to the action server kept open from one action to the next.

The token is handed to Rasa here, inside the process, rather than on the command line, where any
user of the machine could read it. scripts/run.sh starts the Rasa server through this script.
"""

import os
import sys
from functools import lru_cache
from pathlib import Path

import aiohttp
import jsonschema
from rasa.__main__ import main
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project's packages
from channels.rasa_version import require_rasa  # noqa: E402

require_rasa("The action-result schema check (scripts/rasa_server.py, RemoteAction._validate_action_result)")
require_rasa("The action server connections kept open (scripts/rasa_server.py, EndpointConfig.session)")

MIN_TOKEN_LENGTH = 16


@lru_cache(maxsize=1)
def action_result_validator() -> jsonschema.protocols.Validator:
    schema = RemoteAction.action_response_format_spec()
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)
    return validator(schema)


def validate_action_result(action: RemoteAction, result: dict) -> bool:
    """Rasa 3.6 validates the action server's reply with `jsonschema.validate`, which checks the
    (unchanging) schema itself first: about 35 ms per custom action, more than the action takes.
    Here the checked schema is kept; a reply that fails goes through Rasa's own check, so the
    error is the one Rasa reports."""
    if action_result_validator().is_valid(result):
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

if __name__ == "__main__":
    token = os.environ.get("RASA_API_TOKEN", "")
    if len(token) < MIN_TOKEN_LENGTH:
        sys.exit(f"error: RASA_API_TOKEN must be at least {MIN_TOKEN_LENGTH} characters long")
    # One argument, so that a token starting with "-" is not taken for an option.
    sys.argv = ["rasa", "run", *sys.argv[1:], "--enable-api", f"--auth-token={token}"]
    sys.exit(main())
