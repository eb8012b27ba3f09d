"""The Rasa release whose own behaviour this project changes, checked wherever it is changed.

The socket.io room join and custom payloads (channels/webchat.py), the Bot Framework connector
(channels/teams.py), the REST channel's request checks (channels/rest.py), the action-result
schema check (scripts/rasa_server.py), and the cluster's stores and their failure handling
(stores/lock.py, stores/unavailable.py) replace parts of Rasa's code that are not its public
interface. Another Rasa release may have moved or fixed them, so each calls `require_rasa`
when it is loaded: with any other release the server stops at start, naming the change to look
at, rather than misbehaving quietly. After checking each change against a new release, set
RASA_VERSION to it (docs/upgrading.md).
"""

from __future__ import annotations

from importlib import metadata

RASA_VERSION = "3.6.21"


class RasaVersionError(RuntimeError):
    """The installed Rasa is not the release a change to Rasa's behaviour was written for."""


def require_rasa(change: str) -> None:
    """Stops with RasaVersionError, naming `change`, unless the installed Rasa is RASA_VERSION."""
    try:
        installed = metadata.version("rasa")
    except metadata.PackageNotFoundError:
        installed = "none"
    if installed != RASA_VERSION:
        raise RasaVersionError(
            f"{change} was written for Rasa {RASA_VERSION}, but Rasa {installed} is installed. Check "
            f"that change against Rasa {installed}, then set RASA_VERSION in channels/rasa_version.py "
            "(docs/upgrading.md)."
        )
