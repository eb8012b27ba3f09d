"""Members chatting over the REST channel, many at once: the load behind `make bench` and the
load and fault tests.

Each simulated member holds conversations of a few messages, then starts a new one. Every
message is either a guidance question (the answer path: the Rasa server, the action server and
the search) or "hello" (a fixed reply from the Rasa server alone), mixed at random in the same
run, so both kinds meet the same conditions.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import yaml

from bot.config import apply_environment_defaults, server_addresses

apply_environment_defaults()  # the ports, and ACTION_PORT for endpoints.yml

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS_FILE = ROOT / "tests" / "data" / "questions.yml"
WEBHOOK = server_addresses().webhook_url
PORTS = server_addresses().ports  # the Rasa server, the action server, the demo page
STATIC_MESSAGE = "hello"
FIRST_QUESTION = "Can I comment on a planning application on Facebook?"
# What members get when the action server is down (policies/action_failure.py).
APOLOGY = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"][
    "utter_action_failed"
][0]["text"]


def in_use(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def scratch_endpoints(directory: Path) -> Path:
    """A copy of endpoints.yml that keeps conversations in `directory`/tracker.db, for servers
    started with RASA_ENDPOINTS set to it: simulated members stay out of the real conversations."""
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    endpoints["tracker_store"]["db"] = str(directory / "tracker.db")
    path = directory / "endpoints.yml"
    path.write_text(yaml.safe_dump(endpoints), encoding="utf-8")
    return path


def questions(path: Path = QUESTIONS_FILE) -> list[str]:
    """The in-scope questions of the retrieval question set: real councillors' wording."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [item["q"] for item in data["questions"]]


@dataclass
class Exchange:
    """One message and what came back."""

    kind: str  # "answer" (a guidance question) or "static" ("hello")
    sender: str
    message: str
    started: float  # seconds from the start of the run
    seconds: float
    status: int | None = None  # None: no HTTP response (timeout or connection error)
    error: str | None = None
    replies: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None and bool(self.replies)

    @property
    def reply_type(self) -> str:
        return reply_type(self.replies)


def reply_type(replies: list[dict]) -> str:
    """answer / not_covered / ... (the structured reply's type), apology, text, or none."""
    for reply in replies:
        if isinstance(reply.get("custom"), dict) and reply["custom"].get("type"):
            return reply["custom"]["type"]
    texts = [reply.get("text") or "" for reply in replies]
    if APOLOGY in texts:
        return "apology"
    return "text" if any(texts) else "none"


async def send(session: aiohttp.ClientSession, url: str, sender: str, message: str, timeout: float) -> tuple:
    """POST one message; returns (status, replies, error)."""
    try:
        async with session.post(
            url,
            json={"sender": sender, "message": message},
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:
            body = await response.text()
            if response.status != 200:
                return response.status, [], body[:200]
            return response.status, json.loads(body), None
    except asyncio.TimeoutError:
        return None, [], f"no reply within {timeout:g} s"
    except (aiohttp.ClientError, ValueError) as problem:
        return None, [], f"{type(problem).__name__}: {problem}"


async def run(
    url: str,
    members: int,
    *,
    requests: int | None = None,
    seconds: float | None = None,
    stop: asyncio.Event | None = None,
    static_share: float = 0.5,
    turns: int = 6,
    timeout: float = 30.0,
    prefix: str = "load",
    seed: int = 7,
) -> list[Exchange]:
    """`members` members chat at once until `requests` messages have been sent, `seconds` have
    passed or `stop` is set, whichever comes first. Each waits for its reply before sending the
    next message."""
    pool = questions()
    run_id = uuid.uuid4().hex[:8]  # a run's conversations are its own
    exchanges: list[Exchange] = []
    begun = time.monotonic()
    sent = 0

    def more() -> bool:
        nonlocal sent
        if requests is not None and sent >= requests:
            return False
        if seconds is not None and time.monotonic() - begun >= seconds:
            return False
        if stop is not None and stop.is_set():
            return False
        sent += 1
        return True

    async def member(number: int, session: aiohttp.ClientSession) -> None:
        chance = random.Random(seed * 1000 + number)
        turn = 0
        while more():
            sender = f"{prefix}-{run_id}-{number}-{turn // turns}"
            if chance.random() < static_share:
                kind, message = "static", STATIC_MESSAGE
            else:
                kind, message = "answer", chance.choice(pool)
            started = time.monotonic()
            status, replies, error = await send(session, url, sender, message, timeout)
            exchanges.append(
                Exchange(
                    kind, sender, message, started - begun, time.monotonic() - started, status, error, replies
                )
            )
            turn += 1

    connector = aiohttp.TCPConnector(limit=members)
    # No cookies, as REST clients and Microsoft Teams send none: behind HAProxy (`make cluster`)
    # each message may go to any Rasa server.
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as session:
        await asyncio.gather(*(member(n, session) for n in range(members)))
    return exchanges


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (`share` 0.5 for the median); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(1, math.ceil(len(ordered) * share)) - 1]


@dataclass
class Summary:
    count: int
    failed: int  # non-200, no reply, or an empty reply
    p50: float  # seconds
    p95: float
    slowest: float


def summarise(exchanges: list[Exchange]) -> Summary:
    seconds = [e.seconds for e in exchanges]
    return Summary(
        count=len(exchanges),
        failed=sum(not e.ok for e in exchanges),
        p50=percentile(seconds, 0.5),
        p95=percentile(seconds, 0.95),
        slowest=max(seconds, default=0.0),
    )


def start_servers(command: list[str], env: dict, log) -> subprocess.Popen:
    """`make run` or scripts/cluster.sh, in a process group of its own, its output to `log`."""
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


async def first_answer(servers: subprocess.Popen, deadline: float) -> None:
    """Asks until the reply quotes the guidance (the servers are up and the search works)."""
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if servers.poll() is not None:
                raise SystemExit("error: the servers stopped before the first answer")
            _, replies, _ = await send(session, WEBHOOK, "bench-first-answer", FIRST_QUESTION, 30)
            if reply_type(replies) == "answer":
                return
            await asyncio.sleep(0.2)
    raise SystemExit("error: no answer from the servers within 10 minutes; see the logs above")


def measure(members: int, prefix: str, requests: int | None = None, seconds: float | None = None) -> dict:
    started = time.monotonic()
    exchanges = asyncio.run(run(WEBHOOK, members, requests=requests, seconds=seconds, prefix=prefix))
    wall = time.monotonic() - started
    return {
        "members": members,
        "seconds": seconds,
        "exchanges": exchanges,
        "answer": summarise([e for e in exchanges if e.kind == "answer"]),
        "static": summarise([e for e in exchanges if e.kind == "static"]),
        "all": summarise(exchanges),
        "throughput": len(exchanges) / wall,
        "wall": wall,
    }


def peak_memory(pid_file: Path) -> int:
    """Peak resident memory (VmHWM) in bytes of the process whose id `pid_file` holds."""
    status = Path(f"/proc/{pid_file.read_text().strip()}/status").read_text().splitlines()
    return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM"))
