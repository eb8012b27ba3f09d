"""One Rasa server at a time per conversation, across servers: Rasa's Redis lock store with each
change made atomically by Redis, and tickets that outlive only the server holding them.

Rasa serves a conversation's messages in turn by tickets: each message takes the next number and
waits until every lower one is done. Rasa 3.6's `RedisLockStore` keeps a conversation's tickets
as one JSON value that each server reads, changes and writes back (rasa issue #9213), so two
servers taking a ticket at once get the same number and handle the conversation together, and a
ticket taken while another server finishes is lost: replies go out of order and the SQL tracker
store stores events twice or not at all. Here a conversation's tickets are a Redis hash (number
to expiry time) and its last number a counter, changed only by INCR and Lua scripts, which Redis
runs one at a time.

A ticket expires `ticket_lifetime` seconds after it was last renewed, and its holder renews it
while it waits and while the message is handled: a server that dies holding a ticket holds up
its conversation for those seconds only, while a long queue of messages in one conversation
keeps its tickets.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncGenerator

import redis.exceptions
from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

import stores.unavailable  # noqa: F401  (an apology when Redis is unavailable)
from channels.rasa_version import require_rasa

require_rasa("The atomic Redis lock store (stores/lock.py, Rasa's LockStore ticket protocol)")

# KEYS[1]: the tickets (hash: number -> expiry time); KEYS[2]: the last number issued.
DROP_EXPIRED = """
local tickets = redis.call('HGETALL', KEYS[1])
for i = 1, #tickets, 2 do
    if tonumber(tickets[i + 1]) < tonumber(ARGV[1]) then redis.call('HDEL', KEYS[1], tickets[i]) end
end
"""
# ARGV: now, lifetime. Returns the new ticket's number.
ISSUE = (
    DROP_EXPIRED
    + """
local number = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], number, tonumber(ARGV[1]) + tonumber(ARGV[2]))
redis.call('EXPIRE', KEYS[1], math.ceil(ARGV[2]) + 1)
redis.call('EXPIRE', KEYS[2], math.ceil(ARGV[2]) + 1)
return number
"""
)
# ARGV: now, lifetime, number. Renews the ticket if it is still there; returns 1 if it was.
RENEW = """
if redis.call('HEXISTS', KEYS[1], ARGV[3]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[3], tonumber(ARGV[1]) + tonumber(ARGV[2]))
redis.call('EXPIRE', KEYS[1], math.ceil(ARGV[2]) + 1)
redis.call('EXPIRE', KEYS[2], math.ceil(ARGV[2]) + 1)
return 1
"""
# ARGV: number. Removes the ticket, and the lock with it when no other ticket is left.
FINISH = """
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('HLEN', KEYS[1]) == 0 then redis.call('DEL', KEYS[1], KEYS[2]) end
"""

# How often a waiting message checks whether its turn has come (Rasa's default is every second).
POLL_SECONDS = 0.05


class AtomicRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: EndpointConfig) -> None:
        settings = dict(endpoint_config.kwargs)
        self.ticket_lifetime = float(settings.pop("ticket_lifetime", 10))
        super().__init__(host=endpoint_config.url or "localhost", **settings)
        self._drop_expired = self.red.register_script(DROP_EXPIRED)
        self._issue = self.red.register_script(ISSUE)
        self._renew = self.red.register_script(RENEW)
        self._finish = self.red.register_script(FINISH)

    def _keys(self, conversation_id: str) -> list[str]:
        return [f"{self.key_prefix}tickets:{conversation_id}", f"{self.key_prefix}last:{conversation_id}"]

    @contextlib.asynccontextmanager
    async def lock(
        self, conversation_id: str, lock_lifetime: float = 0, wait_time_in_seconds: float = POLL_SECONDS
    ) -> AsyncGenerator[TicketLock, None]:
        """As Rasa's, with the ticket renewed while it is held (`lock_lifetime` is not used)."""
        ticket = self.issue_ticket(conversation_id, self.ticket_lifetime)
        renewing = asyncio.create_task(self._keep_renewed(conversation_id, ticket))
        try:
            yield await self._acquire_lock(conversation_id, ticket, min(wait_time_in_seconds, POLL_SECONDS))
        finally:
            renewing.cancel()
            self.cleanup(conversation_id, ticket)

    async def _keep_renewed(self, conversation_id: str, ticket: int) -> None:
        while True:
            await asyncio.sleep(self.ticket_lifetime / 4)
            # If Redis is unavailable, so is the lock: the message's own calls fail and it gets
            # the apology (stores/unavailable.py); renewing is tried again until then.
            with contextlib.suppress(redis.exceptions.RedisError):
                self._renew(
                    keys=self._keys(conversation_id), args=[time.time(), self.ticket_lifetime, ticket]
                )

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = 0) -> int:
        try:
            keys = self._keys(conversation_id)
            return int(self._issue(keys=keys, args=[time.time(), lock_lifetime or self.ticket_lifetime]))
        except Exception as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        tickets = self.red.hgetall(self._keys(conversation_id)[0])
        if not tickets:
            return None
        ordered = sorted((int(number), float(expires)) for number, expires in tickets.items())
        return TicketLock(conversation_id, deque(Ticket(number, expires) for number, expires in ordered))

    def update_lock(self, conversation_id: str) -> None:
        self._drop_expired(keys=self._keys(conversation_id), args=[time.time()])

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self._finish(keys=self._keys(conversation_id), args=[ticket_number])

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        self.finish_serving(conversation_id, ticket_number)

    def delete_lock(self, conversation_id: str) -> None:
        self.red.delete(*self._keys(conversation_id))

    def save_lock(self, lock: TicketLock) -> None:
        raise NotImplementedError("the tickets change only through the scripts above")
