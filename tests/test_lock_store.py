"""The cluster's lock store (stores/lock.py) against a real Redis: one holder at a time per
conversation among many servers, tickets served in the order taken, and a ticket left by a server
that died lapses."""

import asyncio
import shutil
import socket
import subprocess
import threading
import time

import pytest
from rasa.utils.endpoints import EndpointConfig

from stores.lock import AtomicRedisLockStore

pytestmark = pytest.mark.skipif(not shutil.which("redis-server"), reason="Redis is installed by `make setup`")


@pytest.fixture(scope="module")
def redis_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    redis = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).stdout != b"PONG\n":
        assert time.monotonic() < deadline, "Redis did not start"
        time.sleep(0.1)
    yield port
    redis.terminate()
    redis.wait(timeout=30)


def new_store(port, **settings):
    """A lock store as one Rasa server has it: its own connection to Redis."""
    return AtomicRedisLockStore(EndpointConfig(url="127.0.0.1", port=port, db=0, **settings))


def test_servers_taking_turns_on_one_conversation_never_overlap(redis_port):
    holders, turns, overlaps = [], [], []
    guard = threading.Lock()

    def server(number):
        store = new_store(redis_port)

        async def messages():
            for _ in range(10):
                async with store.lock("one-conversation"):
                    with guard:
                        holders.append(number)
                        if len(holders) > 1:
                            overlaps.append(list(holders))
                    await asyncio.sleep(0.005)
                    with guard:
                        holders.remove(number)
                        turns.append(number)

        asyncio.run(messages())

    threads = [threading.Thread(target=server, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert overlaps == [] and len(turns) == 60
    assert new_store(redis_port).get_lock("one-conversation") is None  # nothing left behind


def test_tickets_are_served_in_the_order_taken_and_never_twice(redis_port):
    stores = [new_store(redis_port) for _ in range(4)]
    tickets = [stores[n % 4].issue_ticket("ordered") for n in range(12)]
    assert tickets == sorted(set(tickets))
    lock = stores[0].get_lock("ordered")
    assert [lock.now_serving, lock.last_issued] == [tickets[0], tickets[-1]]
    for ticket in tickets:
        assert not stores[ticket % 4].get_lock("ordered").is_locked(ticket)
        stores[ticket % 4].cleanup("ordered", ticket)
    assert stores[0].get_lock("ordered") is None


def test_a_ticket_left_by_a_server_that_died_lapses(redis_port):
    new_store(redis_port, ticket_lifetime=1).issue_ticket("abandoned")  # never renewed nor returned

    async def next_message():
        async with new_store(redis_port, ticket_lifetime=1).lock("abandoned") as lock:
            return lock

    assert asyncio.run(asyncio.wait_for(next_message(), timeout=60)) is not None
