"""An apology, and nothing kept in memory, when the conversation store or the lock store fails.

Rasa 3.6 wraps every tracker store in a `FailSafeTrackerStore`: if the database fails, a
conversation is read as empty (the member's council forgotten) and written to memory, where it
is lost with the process and invisible to the other servers. For the stores of stores/tracker.py
that wrapping is left out, so a database error stops the message; and a message stopped by the
database or by Redis gets the same apology as a failed action (domain.yml's
`utter_action_failed`) instead of an HTTP 500 or silence. The next message is handled as usual, so
service resumes as soon as the store is back.
"""

from __future__ import annotations

import copy
import logging

import redis.exceptions
import sqlalchemy.exc
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.core.lock_store import LockError

from channels.rasa_version import require_rasa

require_rasa("The apology when a store fails, without Rasa's in-memory fallback (stores/unavailable.py)")

logger = logging.getLogger(__name__)

APOLOGY = "utter_action_failed"
STORE_ERRORS = (LockError, redis.exceptions.RedisError, sqlalchemy.exc.SQLAlchemyError)


class WithoutFallback:
    """A tracker store that Rasa must use as it is, without its in-memory fallback."""


def create_tracker_store(store, domain):
    if isinstance(store, WithoutFallback):
        store.domain = domain
        return store
    return rasa_create_tracker_store(store, domain)


async def handle_message(agent: Agent, message: UserMessage):
    try:
        return await rasa_handle_message(agent, message)
    except STORE_ERRORS as error:
        # The driver's own message: SQLAlchemy's would quote the statement and its parameters,
        # which hold what the member wrote.
        reason = getattr(error, "orig", None) or error
        logger.error("message not handled, a store is unavailable: %s: %s", type(error).__name__, reason)
        for response in agent.domain.responses[APOLOGY][:1]:
            # A copy: Rasa's send_response takes the text out of the message it is given.
            await message.output_channel.send_response(message.sender_id, copy.deepcopy(response))
        return None


rasa_create_tracker_store = Agent._create_tracker_store
rasa_handle_message = Agent.handle_message
Agent._create_tracker_store = staticmethod(create_tracker_store)
Agent.handle_message = handle_message
