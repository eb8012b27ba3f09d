"""A training session under load: how many attendees one session holds, and how long an
attendee's question takes to reach the presenter screen with its answer.

Against running servers (`make run`, or scripts/run.sh): a presenter starts a session and listens
to its event stream as the presenter screen does; attendees join by the code, up to the session's
limit (one more must be turned away), then ask questions over the page server as their phones do.
An attendee's question counts from the moment the phone sends it to the moment the presenter's
stream delivers it, answered, to the queue. Questions are passage questions from
corpus/passage_questions.yml, each asked once, so each is recognised by its text.

Two rounds: every attendee the session holds asking at once (a burst, the worst case), then a
room of 25 asking now and then (a few seconds apart each), as in a real session.

`make bench` puts the figures in bench/results.md; on its own, against servers already running,
this prints them:

    python -m bench.training [--url http://localhost:8080]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
import yaml

from bench.load import percentile
from bot.config import server_addresses, settings

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "corpus" / "passage_questions.yml"
TIMEOUT = aiohttp.ClientTimeout(total=300)


def passage_questions() -> list[str]:
    data = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
    return [q for questions in data.values() for q in questions]


class Presenter:
    """The presenter screen's event stream: when each question arrived in the queue."""

    def __init__(self, http: aiohttp.ClientSession, url: str, code: str, key: str):
        self.http, self.url, self.code, self.key = http, url, code, key
        self.arrived: dict[str, float] = {}
        self.ready = asyncio.Event()

    async def listen(self) -> None:
        async with self.http.get(
            f"{self.url}/api/sessions/{self.code}/events", params={"key": self.key}
        ) as response:
            async for line in response.content:
                self.ready.set()
                if not line.startswith(b"data: "):
                    continue
                event = json.loads(line[6:])
                if event["type"] == "question":
                    self.arrived[event["question"]["text"]] = time.monotonic()
                if event["type"] == "ended":
                    return


async def join(http, url, code) -> tuple[int, str | None]:
    async with http.post(f"{url}/api/join/{code}", json={}) as response:
        data = await response.json()
        return response.status, data.get("attendee")


async def ask(http, url, code, attendee, question) -> tuple[float, int, bool]:
    """(when sent, HTTP status, whether the reply quotes or declines: queued for the presenter)."""
    sent = time.monotonic()
    async with http.post(
        f"{url}/api/join/{code}/ask", json={"attendee": attendee, "message": question}
    ) as response:
        data = await response.json()
    kinds = {r["custom"].get("type") for r in data.get("replies", []) if isinstance(r.get("custom"), dict)}
    return sent, response.status, bool(kinds & {"answer", "not_covered", "comparison", "section"})


async def session_round(
    url: str, attendees: int | None, per_attendee: int, pause: tuple[float, float], questions: list[str]
) -> dict:
    async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
        async with http.post(f"{url}/api/sessions", json={}) as response:
            started = await response.json()
        code, key = started["code"], started["key"]
        presenter = Presenter(http, url, code, key)
        listening = asyncio.create_task(presenter.listen())
        await asyncio.wait_for(presenter.ready.wait(), 30)
        tokens, refused = [], None
        while attendees is None or len(tokens) < attendees:
            status, token = await join(http, url, code)
            if status != 200:
                refused = status
                break
            tokens.append(token)
        if attendees is None and refused is None:
            raise RuntimeError("the session took every attendee offered")
        pending = iter(questions)
        sent: dict[str, float] = {}
        statuses: list[int] = []
        queued: list[str] = []

        async def attendee(token: str) -> None:
            for _ in range(per_attendee):
                await asyncio.sleep(random.uniform(*pause))
                question = next(pending)
                at, status, answered = await ask(http, url, code, token, question)
                statuses.append(status)
                if answered:
                    sent[question] = at
                    queued.append(question)

        wall = time.monotonic()
        await asyncio.gather(*(attendee(t) for t in tokens))
        deadline = time.monotonic() + 60
        while any(q not in presenter.arrived for q in queued) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        wall = time.monotonic() - wall
        async with http.post(
            f"{url}/api/sessions/{code}/end", headers={"X-Session-Key": key}, json={}
        ) as response:
            await response.read()
        await asyncio.wait_for(listening, 30)
        delays = [presenter.arrived[q] - sent[q] for q in queued if q in presenter.arrived]
        return {
            "attendees": len(tokens),
            "turned_away": refused,
            "asked": len(statuses),
            "ok": statuses.count(200),
            "queued": len(queued),
            "arrived": len(delays),
            "p50": percentile(delays, 0.5) if delays else None,
            "p95": percentile(delays, 0.95) if delays else None,
            "slowest": max(delays) if delays else None,
            "seconds": wall,
        }


def ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1000:,.0f} ms"


def section(facts: dict) -> list[str]:
    """The figures as a section of bench/results.md."""
    burst, room = facts["burst"], facts["room"]
    rows = [
        f"| {name} | {r['attendees']} | {r['asked']} | {r['ok']} | {r['arrived']} of {r['queued']} | "
        f"{ms(r['p50'])} | {ms(r['p95'])} | {ms(r['slowest'])} | {r['seconds']:.1f} s |"
        for name, r in (("every attendee at once", burst), ("a room of 25, now and then", room))
    ]
    return [
        "## A training session",
        "",
        "A presenter starts a session and listens to its event stream as the presenter screen does; "
        "attendees join by its code, then ask passage questions (corpus/passage_questions.yml) over the "
        "page server as their phones do. An attendee's question is timed from the moment the phone sends it "
        "until the presenter screen's event stream delivers it, with its answer, to the queue "
        f"(bench/training.py). Measured on {facts['date']}; load average {facts['load']} before the run.",
        "",
        f"One session held **{burst['attendees']} attendees** (TRAINING_MAX_ATTENDEES = {facts['limit']}); "
        f"the next one to join was turned away with HTTP {burst['turned_away']}.",
        "",
        "| load | attendees | questions | answered (HTTP 200) | on the presenter screen "
        "| p50 | p95 | slowest | wall |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        "Every attendee at once: each asks 2 questions, the first within the same second. A room of 25: each "
        "asks 3 questions, 2 to 8 seconds apart.",
        "",
    ]


def measure(url: str) -> dict:
    """Both rounds against the page server at `url`."""
    questions = passage_questions()
    random.Random(12).shuffle(questions)
    limit = settings().max_attendees
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    burst = asyncio.run(session_round(url, None, 2, (0.0, 1.0), questions[: 2 * limit + 10]))
    room = asyncio.run(session_round(url, 25, 3, (2.0, 8.0), questions[2 * limit + 10 :]))
    return {"burst": burst, "room": room, "limit": limit, "date": started, "load": load}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.training", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=server_addresses().web_url, help="the page server")
    args = parser.parse_args(argv)
    print("\n".join(section(measure(args.url))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
