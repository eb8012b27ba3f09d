"""Crashed and restarted servers, and a damaged index, with the real servers over real HTTP."""

import asyncio
import dataclasses
import json
import os
import signal
import stat
import time

import pytest

from bench import load
from bot import index
from bot.config import server_addresses, settings
from rest_client import RASA, WEBHOOK, payloads, request, say

ACTIONS = server_addresses().action_url


def action_server_healthy():
    try:
        return request(f"{ACTIONS}/health", timeout=5)[0] == 200
    except OSError:
        return False


async def kill_action_server_and_wait_for_restart(servers, stop, after=3.0, then=10.0):
    """Kills the action server `after` seconds into the run; returns the times from the start
    (killed, restarted, back): when it was killed, when scripts/run.sh had started a new process
    (which cannot answer before it exists), and when that process answered its health check.
    Stops the load `then` seconds later."""
    begun = time.monotonic()
    await asyncio.sleep(after)
    pid = servers.pid("actions")
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic() - begun
    while servers.pid("actions") == pid:
        assert time.monotonic() - begun < 300, "the action server was not started again"
        await asyncio.sleep(0.1)
    restarted = time.monotonic() - begun
    while not await asyncio.to_thread(action_server_healthy):
        assert time.monotonic() - begun < 300, "the restarted action server never became healthy"
        await asyncio.sleep(0.5)
    back = time.monotonic() - begun
    await asyncio.sleep(then)
    stop.set()
    return killed, restarted, back


def test_killing_the_action_server_under_load_gives_apologies_then_answers(servers):
    rasa = servers.pid("rasa")

    async def scenario():
        stop = asyncio.Event()
        exchanges, (killed, restarted, back) = await asyncio.gather(
            load.run(WEBHOOK, 10, stop=stop, prefix="fault-kill", seconds=360),
            kill_action_server_and_wait_for_restart(servers, stop),
        )
        return exchanges, killed, restarted, back

    exchanges, killed, restarted, back = asyncio.run(scenario())

    failed = [(e.status, e.error) for e in exchanges if not e.ok]
    assert failed == []  # every message got a 200 and a reply: no 5xx, no timeouts, no silence
    questions = [e for e in exchanges if e.kind == "answer"]
    before = [e.reply_type for e in questions if e.started + e.seconds < killed]
    down = [e.reply_type for e in questions if killed < e.started and e.started + e.seconds < restarted]
    until_healthy = [e.reply_type for e in questions if killed < e.started and e.started + e.seconds < back]
    after = [e.reply_type for e in questions if e.started > back + 1]
    assert "answer" in before and "apology" not in before
    assert "answer" not in down  # (a new process may answer a little before its health check does)
    assert "apology" in until_healthy
    assert after.count("answer") >= 5 and "apology" not in after
    assert {e.reply_type for e in exchanges if e.kind == "static"} == {"text"}
    assert servers.pid("rasa") == rasa  # answers came back without restarting Rasa


def test_a_damaged_index_is_rebuilt_and_never_served(servers):
    damaged = servers.logs / "index" / index.VECTORS
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])  # half-written
    pid = servers.pid("actions")
    os.kill(pid, signal.SIGKILL)  # the next start of the action server loads the index

    replies_meanwhile = []
    deadline = time.monotonic() + 300
    while servers.pid("actions") == pid or not action_server_healthy():
        assert time.monotonic() < deadline, "the action server did not come back"
        reply = load.reply_type(say("fault-index-meanwhile", "Can I tweet after a drink?"))
        if not action_server_healthy():  # (a reply just as the rebuilt index came up is not counted)
            replies_meanwhile.append(reply)
        time.sleep(2)

    assert replies_meanwhile and set(replies_meanwhile) == {"apology"}  # never an answer from it
    log = (servers.logs / "actions.log").read_text()
    assert f"rebuilding the index: {index.VECTORS} is missing or damaged" in log
    assert index.problem(dataclasses.replace(settings(), index_dir=servers.logs / "index")) is None
    [payload] = payloads(say("fault-index-after", "Can I tweet after a drink?"))
    assert payload["type"] == "answer"


@pytest.mark.stops_servers  # restarts them, so runs after the tests that share them
def test_after_the_rasa_server_restarts_a_conversation_keeps_its_council(servers):
    member = "fault-restart-keeps-council"
    say(member, "I'm a Peterborough councillor")
    [before] = payloads(say(member, "Can I post on Facebook after a few drinks?"))
    assert before["quotes"][0]["council"] == "Peterborough City Council"

    servers.stop()
    del servers.env["RASA_API_TOKEN"]  # this time scripts/run.sh makes one
    servers.start()

    [after] = payloads(say(member, "is it ok to share photos from a council event?"))
    assert after["type"] == "answer" and after["quotes"][0]["council"] == "Peterborough City Council"
    token = servers.logs / "rasa-api-token"
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    status, body = request(f"{RASA}/conversations/{member}/tracker?token={token.read_text().strip()}")
    assert status == 200 and json.loads(body)["slots"]["council"] == "peterborough"
