"""`rasa run` as this project runs it: the HTTP API switched on and protected by the token in
RASA_API_TOKEN, and custom action results checked without re-checking their schema each time.

The token is handed to Rasa here, inside the process, rather than on the command line, where any
user of the machine could read it. scripts/run.sh starts the Rasa server through this script.
"""

import os
import sys
from functools import lru_cache
from pathlib import Path

import jsonschema
from rasa.__main__ import main
from rasa.core.actions.action import RemoteAction

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project's packages
from channels.rasa_version import require_rasa  # noqa: E402

require_rasa("The action-result schema check (scripts/rasa_server.py, RemoteAction._validate_action_result)")

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

if __name__ == "__main__":
    token = os.environ.get("RASA_API_TOKEN", "")
    if len(token) < MIN_TOKEN_LENGTH:
        sys.exit(f"error: RASA_API_TOKEN must be at least {MIN_TOKEN_LENGTH} characters long")
    # One argument, so that a token starting with "-" is not taken for an option.
    sys.argv = ["rasa", "run", *sys.argv[1:], "--enable-api", f"--auth-token={token}"]
    sys.exit(main())
