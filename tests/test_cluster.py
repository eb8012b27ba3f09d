"""The cluster of `make cluster` (scripts/cluster.sh) against the real PostgreSQL, Redis and
HAProxy: conversations shared between Rasa servers, a conversation's messages handled one at a
time across servers, a server killed under load, and the stores stopped and started again.

A test picks the Rasa server that handles a message with HAProxy's cookie, as a browser's
socket.io connection is kept on one; without the cookie, HAProxy takes the servers in turn.
"""

import asyncio
import collections
import concurrent.futures
import contextlib
import json
import os
import queue
import shutil
import signal
import time
import urllib.error
import urllib.request

import psycopg2
import pytest
import socketio
from conftest import API_TOKEN, ROOT, Servers

from bench import load
from bot import index

# Ports of their own, so that the cluster and the servers of scripts/run.sh can run in one session.
PORTS = {
    "RASA_PORT": 5205,
    "ACTION_PORT": 5255,
    "WEB_PORT": 8280,
    "TRACKER_DB_PORT": 5533,
    "LOCK_STORE_PORT": 6480,
}
RASA_SERVERS = 3
ACTION_SERVERS = 2
SERVERS = [f"rasa{i}" for i in range(1, RASA_SERVERS + 1)]
URL = f"http://127.0.0.1:{PORTS['RASA_PORT']}"
WEBHOOK = f"{URL}/webhooks/rest/webhook"
COOKIE = "assistant-server"
QUESTION = "Can I post on Facebook after a few drinks?"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """scripts/cluster.sh with three Rasa servers and two action servers. The database lives
    under var/ (PostgreSQL runs as its own user, who cannot enter pytest's private directories)
    and starts empty."""
    if not (ROOT / "models" / "current.tar.gz").exists():
        pytest.fail("no trained model: run `make train` (make test does) before this test")
    index.ensure_built()
    logs = tmp_path_factory.mktemp("cluster")
    cluster_dir = ROOT / "var" / "test-cluster"
    shutil.rmtree(cluster_dir, ignore_errors=True)
    env = {
        **os.environ,
        **{name: str(port) for name, port in PORTS.items()},
        "CLUSTER_RASA_SERVERS": str(RASA_SERVERS),
        "CLUSTER_ACTION_SERVERS": str(ACTION_SERVERS),
        "CLUSTER_DIR": str(cluster_dir),
        "LOG_DIR": str(logs),
        "RUN_DIR": str(logs),
        "BOT_FEEDBACK_DB": str(logs / "feedback.db"),
        "RASA_API_TOKEN": API_TOKEN,
    }
    ports = [*PORTS.values(), *(PORTS["RASA_PORT"] + i for i in range(1, RASA_SERVERS + 1))]
    running = Servers(env, logs, script="scripts/cluster.sh", ports=ports)
    running.start()
    running.cluster_dir = cluster_dir
    yield running
    running.stop()
    shutil.rmtree(cluster_dir, ignore_errors=True)


def say(sender, message, server=None, timeout=120):
    """(replies, the server that answered) for one message over REST through HAProxy, sent to
    `server` ("rasa1", ...) if given."""
    request = urllib.request.Request(
        WEBHOOK,
        data=json.dumps({"sender": sender, "message": message}).encode(),
        headers={"Content-Type": "application/json", **({"Cookie": f"{COOKIE}={server}"} if server else {})},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        assert response.status == 200
        cookie = response.headers.get("Set-Cookie", "")
        served_by = cookie.split(";")[0].partition("=")[2] if cookie.startswith(COOKIE) else server
        return json.loads(response.read()), served_by


def payloads(replies):
    return [r["custom"] for r in replies if r.get("custom")]


def texts(replies):
    return [r.get("text") for r in replies]


def stored_events(cluster, sender):
    """The conversation's events as PostgreSQL holds them, in the order they were stored."""
    password = (cluster.cluster_dir / "db-password").read_text().strip()
    with contextlib.closing(
        psycopg2.connect(
            host="127.0.0.1",
            port=PORTS["TRACKER_DB_PORT"],
            dbname="assistant",
            user="assistant",
            password=password,
        )
    ) as db:
        with db.cursor() as cursor:
            cursor.execute("SELECT data FROM events WHERE sender_id = %s ORDER BY id", (sender,))
            return [json.loads(data) for (data,) in cursor.fetchall()]


def stored_messages(cluster, sender):
    return [e["text"] for e in stored_events(cluster, sender) if e["event"] == "user"]


def in_order(part, whole):
    """Whether `whole` holds the items of `part` in the same order (among others)."""
    rest = iter(whole)
    return all(item in rest for item in part)


def servers_pids(cluster):
    names = [
        *(f"rasa-{i}" for i in range(1, RASA_SERVERS + 1)),
        *(f"actions-{j}" for j in range(1, ACTION_SERVERS + 1)),
    ]
    return {name: cluster.pid(name) for name in [*names, "postgres", "redis", "haproxy"]}


def test_a_council_set_through_one_server_is_known_through_another(cluster):
    member = "cluster-council"
    _, first = say(member, "I'm a Peterborough councillor")
    assert first in SERVERS
    other = next(server for server in SERVERS if server != first)
    replies, served_by = say(member, QUESTION, server=other)
    assert served_by == other
    [answer] = payloads(replies)
    assert answer["type"] == "answer" and answer["quotes"][0]["council"] == "Peterborough City Council"
    assert stored_messages(cluster, member) == ["I'm a Peterborough councillor", QUESTION]


def test_twenty_messages_of_one_conversation_at_once_are_answered_and_stored_once_each_in_turn(cluster):
    member = "cluster-twenty-at-once"
    messages = load.questions()[:20]
    with concurrent.futures.ThreadPoolExecutor(len(messages)) as pool:
        sent = [
            pool.submit(say, member, message, SERVERS[n % RASA_SERVERS]) for n, message in enumerate(messages)
        ]
        replies = {message: future.result()[0] for message, future in zip(messages, sent)}

    unexpected = {m: r for m, r in replies.items() if load.reply_type(r) not in ("answer", "not_covered")}
    assert not unexpected, f"replies that are not an answer: {unexpected}"
    events = stored_events(cluster, member)
    turns = []  # each stored message with the replies stored after it, up to the next message
    for event in events:
        if event["event"] == "user":
            turns.append((event["text"], []))
        elif turns and event["event"] == "bot":
            turns[-1][1].append(event.get("text"))
    assert sorted(text for text, _ in turns) == sorted(messages)  # every message, once
    for text, bot_texts in turns:  # each followed by its own replies, none of another's
        assert bot_texts == texts(replies[text])
    assert events[-1]["event"] == "action" and events[-1]["name"] == "action_listen"


def test_the_chat_widget_stays_on_one_server_over_long_polling(cluster):
    """socket.io's long polling sends a connection's requests separately: they must all reach the
    server that holds the connection, which HAProxy's cookie ensures."""
    client = socketio.Client()
    received = queue.Queue()
    client.on("session_confirm", lambda session: received.put(("session", session)))
    client.on("bot_uttered", lambda message: received.put(("bot", message)))
    client.connect(URL, transports=["polling"])
    try:
        client.emit("session_request", {"session_id": None})
        kind, session = received.get(timeout=60)
        assert kind == "session"
        for _ in range(3):  # several rounds of polling, through a server kept by the cookie
            client.emit("user_uttered", {"message": "hello", "session_id": session})
            kind, message = received.get(timeout=60)
            assert kind == "bot" and message.get("text")
    finally:
        client.disconnect()


@contextlib.contextmanager
def supervisor_paused(cluster):
    """scripts/cluster.sh starts a stopped store again within a second; paused, it waits, so a
    store stays down as long as the test needs. Resumed on leaving."""
    os.kill(cluster.process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(cluster.process.pid, signal.SIGCONT)


def stop_store(cluster, name, port, how):
    os.kill(cluster.pid(name), how)
    deadline = time.monotonic() + 60
    while load.in_use(port):
        assert time.monotonic() < deadline, f"{name} did not stop"
        time.sleep(0.2)


def answered_again(member):
    """Asks until the answer comes back (the store was started again); the answer."""
    deadline = time.monotonic() + 300
    while True:
        replies, _ = say(member, QUESTION)
        if load.reply_type(replies) == "answer":
            return payloads(replies)[0]
        assert time.monotonic() < deadline, "service did not resume"
        time.sleep(1)


@pytest.mark.parametrize(
    "store, port, how",
    [
        ("postgres", PORTS["TRACKER_DB_PORT"], signal.SIGINT),
        ("redis", PORTS["LOCK_STORE_PORT"], signal.SIGTERM),
    ],
)
def test_with_a_store_stopped_members_get_the_apology_and_nothing_stays_in_memory(cluster, store, port, how):
    member = f"cluster-{store}-stopped"
    say(member, "I'm a Peterborough councillor")
    pids = servers_pids(cluster)
    with supervisor_paused(cluster):
        stop_store(cluster, store, port, how)
        for server in SERVERS:  # every server apologises, and keeps nothing it was told
            replies, _ = say(member, "I'm a Cambridgeshire councillor", server=server)
            assert texts(replies) == [load.APOLOGY]
            replies, _ = say(member, QUESTION, server=server)
            assert texts(replies) == [load.APOLOGY]

    answer = answered_again(member)  # scripts/cluster.sh has started the store again
    assert answer["quotes"][0]["council"] == "Peterborough City Council"
    assert "I'm a Cambridgeshire councillor" not in stored_messages(cluster, member)
    restarted = {name for name, pid in servers_pids(cluster).items() if pid != pids[name]}
    assert restarted == {store}  # no Rasa server or action server was restarted


def test_a_rasa_server_killed_under_load_loses_no_conversation(cluster):
    pids = servers_pids(cluster)

    async def kill_one_then_carry_on(stop, after=5.0, then=20.0):
        await asyncio.sleep(after)
        os.kill(pids["rasa-2"], signal.SIGKILL)
        killed = time.monotonic()
        await asyncio.sleep(then)
        stop.set()
        return killed

    async def scenario():
        stop = asyncio.Event()
        begun = time.monotonic()
        exchanges, killed = await asyncio.gather(
            load.run(WEBHOOK, 10, stop=stop, prefix="cluster-kill", seconds=300, timeout=60),
            kill_one_then_carry_on(stop),
        )
        return exchanges, killed - begun

    exchanges, killed = asyncio.run(scenario())

    # HAProxy sends a message that the killed server refused or dropped to another server, and
    # takes the server out after two failed health checks a second apart: only a message that
    # server was handling as it died may get no reply, as over a broken connection. (The load's
    # clock starts a moment after this test's, hence the second's margin before the kill.)
    failed = [(e.started, e.seconds, e.status, e.error) for e in exchanges if not e.ok]
    assert all(killed - 1 < started + seconds and started < killed + 5 for started, seconds, *_ in failed), (
        failed
    )
    after = [e.reply_type for e in exchanges if e.started > killed]
    assert after.count("answer") >= 5 and "apology" not in after
    conversations = collections.defaultdict(list)
    for e in sorted(exchanges, key=lambda e: e.started):
        conversations[e.sender].append(e)
    for sender, sent in conversations.items():
        stored = stored_messages(cluster, sender)
        # Every answered message is stored, in order, and nothing else. (One stored just as its
        # server died, before the reply left, is handled again by the server it was retried on.)
        assert in_order([e.message for e in sent if e.ok], stored), sender
        assert set(stored) <= {e.message for e in sent} and len(stored) <= len(sent) + 1, sender
    others = {name: pid for name, pid in pids.items() if name != "rasa-2"}
    assert {name: servers_pids(cluster)[name] for name in others} == others  # nothing else restarted
