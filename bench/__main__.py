"""`make bench`: how fast the assistant answers and how much memory it takes, measured over real
HTTP against the servers as `make run` starts them. Writes bench/results.md.

In order: times an index build from scratch (into a scratch directory); starts `make run` and
times it to the first quoted answer; measures latency at 1 and at 10 members chatting at once,
guidance questions and "hello" mixed in the same run; has 50 members chat for 60 seconds; reads
the peak resident memory of the Rasa server and the action server; measures a training session
(bench/training.py: how many attendees it holds, and the p95 from an attendee's question to its
answer on the presenter screen); stops the servers. Then starts `make cluster` with 1, 2 and 3
Rasa servers in turn and measures each at 10 and at 50 members (bench/cluster.py). The simulated
conversations are kept in scratch databases, apart from the real ones.

The servers' ports must be free: stop `make run` first.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from bench import cluster, training
from bench.load import (
    PORTS,
    ROOT,
    WEBHOOK,
    first_answer,
    in_use,
    measure,
    peak_memory,
    run,
    scratch_endpoints,
    start_servers,
)
from bot.config import server_addresses

# The targets bench/results.md is checked against.
# A guidance question's p50 at most this many times a fixed reply's, by members at once.
MAX_RATIO = {1: 1.3, 10: 2.0}
MAX_P95_AT_10 = 1.0  # seconds
MAX_MEMORY = 2.5e9  # bytes, both servers together


QUOTE = '"'


def machine() -> dict[str, str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    memory_kb = int(
        next(
            line.split()[1]
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    )
    release = dict(
        line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line
    )
    return {
        "CPU": f"{cpu}, {os.cpu_count()} cores",
        "Memory": f"{memory_kb / 1024 / 1024:.1f} GiB",
        "System": f"{release.get('PRETTY_NAME', 'Linux').strip(QUOTE)}, kernel {platform.release()}",
        "Python": platform.python_version(),
        "Packages": ", ".join(
            f"{name} {metadata.version(name)}"
            for name in ("rasa", "rasa-sdk", "sentence-transformers", "torch", "faiss-cpu")
        ),
    }


def cpu_check() -> str:
    """A fixed piece of pure-Python work, timed, and the load average: to compare runs and
    machines, whose speed varies (a shared virtual machine's most of all)."""
    started = time.perf_counter()
    sum(i * i for i in range(3_000_000))
    seconds = time.perf_counter() - started
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return f"3 million squares summed in {seconds * 1000:.0f} ms; load average {load} before the run"


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def build_index(scratch: Path) -> dict:
    """Times `bot build --force` into a scratch directory (the project's index is left alone)."""
    env = {**os.environ, "BOT_INDEX_DIR": str(scratch / "index")}
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "bot", "build", "--force"], cwd=ROOT, env=env, check=True)
    wall = time.monotonic() - started
    manifest = json.loads((scratch / "index" / "manifest.json").read_text())
    return {"wall": wall, "build": manifest["build_seconds"], "passages": manifest["passages"]}


def peak_memories(run_dir: Path) -> dict[str, int]:
    """Peak resident memory in bytes of each server since it started."""
    return {
        name: peak_memory(run_dir / pid_file)
        for name, pid_file in (("Rasa server", "rasa.pid"), ("action server", "actions.pid"))
    }


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def yes(met: bool) -> str:
    return "yes" if met else "**no**"


def report(facts: dict) -> str:
    rows = facts["latency"]
    memory = facts["memory"]
    total_memory = sum(memory.values())
    load = facts["load"]
    lines = [
        "# Benchmark results",
        "",
        f"Measured by `make bench` on {facts['date']}, over HTTP on loopback against the servers "
        "as `make run` starts them (scripts/run.sh). A member sends a message, waits for the reply, "
        "then sends the next; every six messages they start a new conversation. Guidance questions "
        "(the in-scope questions of tests/data/questions.yml, at random: the answer path through the "
        'Rasa server, the action server and the search) and "hello" (a fixed reply from the Rasa '
        "server alone) are mixed at random in the same run.",
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
        *(f"| {key} | {value} |" for key, value in facts["machine"].items()),
        "",
        "## Targets",
        "",
        "| target | measured | met |",
        "| --- | --- | --- |",
    ]
    for row in rows:
        ratio = row["answer"].p50 / row["static"].p50
        limit = MAX_RATIO[row["members"]]
        lines.append(
            f"| answer p50 at most {limit:g} × the static reply's p50, {row['members']} at once "
            f"| {ms(row['answer'].p50)} / {ms(row['static'].p50)} = {ratio:.2f} × "
            f"| {yes(ratio <= limit)} |"
        )
    at_10 = next(row for row in rows if row["members"] == 10)
    lines += [
        f"| p95 under {MAX_P95_AT_10:g} s at 10 at once | answer {ms(at_10['answer'].p95)}, "
        f"static {ms(at_10['static'].p95)} "
        f"| {yes(max(at_10['answer'].p95, at_10['static'].p95) < MAX_P95_AT_10)} |",
        f"| both servers under {MAX_MEMORY / 1e9:g} GB resident | {total_memory / 1e9:.2f} GB at peak "
        f"| {yes(total_memory < MAX_MEMORY)} |",
        f"| {load['members']} members for {load['seconds']:g} s: no 5xx, no timeouts, every message "
        f"answered | {load['all'].count:,} messages, {load['all'].failed} failed "
        f"| {yes(load['all'].failed == 0)} |",
        "",
        "## Latency",
        "",
        "| at once | message | messages | p50 | p95 | slowest | failed |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows + [load]:
        for kind in ("answer", "static"):
            s = row[kind]
            lines.append(
                f"| {row['members']} | {'guidance question' if kind == 'answer' else 'hello'} | {s.count:,} "
                f"| {ms(s.p50)} | {ms(s.p95)} | {ms(s.slowest)} | {s.failed} |"
            )
    lines += [
        "",
        "| at once | messages | seconds | throughput | replies |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows + [load]:
        kinds = collections.Counter(e.reply_type for e in row["exchanges"])
        statuses = collections.Counter(e.status for e in row["exchanges"])
        lines.append(
            f"| {row['members']} | {row['all'].count:,} | {row['wall']:.1f} "
            f"| {row['throughput']:.1f} messages/s "
            f"| {', '.join(f'{k} {v}' for k, v in kinds.most_common())}; "
            f"HTTP {', '.join(f'{k} × {v}' for k, v in statuses.most_common())} |"
        )
    index = facts["index"]
    lines += [
        "",
        "## Start-up, index and memory",
        "",
        "| | |",
        "| --- | --- |",
        "| `make run` to the first quoted answer (index and model already built) "
        f"| {facts['first_answer']:.1f} s |",
        f"| index build from scratch, {index['passages']} passages (`bot build --force`) "
        f"| {index['build']:.1f} s ({index['wall']:.1f} s with start-up) |",
        *(f"| peak resident memory, {name} | {value / 1e6:,.0f} MB |" for name, value in memory.items()),
        f"| peak resident memory, both servers | {total_memory / 1e6:,.0f} MB |",
        "",
        *training.section(facts["training"]),
        "",
        *cluster.report(facts["cluster"], os.cpu_count(), facts["measured"]),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.md")
    parser.add_argument("--load-members", type=int, default=50)
    parser.add_argument("--load-seconds", type=float, default=60)
    parser.add_argument(
        "--cluster-only",
        action="store_true",
        help="measure `make cluster` alone and replace the cluster section of --out",
    )
    args = parser.parse_args(argv)

    busy = [port for port in PORTS if in_use(port)]
    if busy:
        print(
            f"error: ports {busy} are in use: stop `make run` (or whatever holds them) first", file=sys.stderr
        )
        return 1
    facts = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine()}
    facts["machine"]["Speed check"] = cpu_check()
    facts["measured"] = f"{facts['date']}; speed check: {facts['machine']['Speed check']}"
    if args.cluster_only:
        with tempfile.TemporaryDirectory(prefix="bench-") as scratch_name:
            runs = [
                cluster.cluster_run(servers, Path(scratch_name), step) for servers in cluster.RASA_SERVERS
            ]
        earlier = args.out.read_text(encoding="utf-8").split(cluster.HEADING)[0].rstrip("\n")
        args.out.write_text(
            "\n".join([earlier, "", *cluster.report(runs, os.cpu_count(), facts["measured"])]), "utf-8"
        )
        step(f"cluster section written to {args.out}")
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch_name:
        scratch = Path(scratch_name)
        step("building the index from scratch")
        facts["index"] = build_index(scratch)

        step("starting the servers with `make run`")
        run_dir = scratch / "run"
        env = {
            **os.environ,
            "LOG_DIR": str(scratch / "log"),
            "RUN_DIR": str(run_dir),
            "BOT_FEEDBACK_DB": str(scratch / "feedback.db"),
            "RASA_ENDPOINTS": str(scratch_endpoints(scratch)),
        }
        log = (scratch / "make-run.log").open("w")
        started = time.monotonic()
        servers = start_servers(["make", "--no-print-directory", "run"], env, log)
        try:
            asyncio.run(first_answer(servers, started + 600))
            facts["first_answer"] = time.monotonic() - started
            step(f"first answer after {facts['first_answer']:.1f} s")

            asyncio.run(run(WEBHOOK, 2, requests=40, prefix="bench-warm-up"))
            facts["latency"] = []
            for members, requests in ((1, 300), (10, 1000)):
                step(f"latency with {members} at once ({requests} messages)")
                facts["latency"].append(measure(members, f"bench-{members}", requests=requests))
            step(f"load: {args.load_members} members for {args.load_seconds:g} s")
            facts["load"] = measure(args.load_members, "bench-load", seconds=args.load_seconds)
            facts["memory"] = peak_memories(run_dir)
            step("a training session: how many attendees it holds, and p95 to the presenter screen")
            facts["training"] = training.measure(server_addresses().web_url)
        finally:
            step("stopping the servers")
            os.killpg(servers.pid, signal.SIGTERM)
            servers.wait(timeout=120)
            log.close()
            if "training" not in facts:
                print((scratch / "make-run.log").read_text()[-3000:], file=sys.stderr)

        facts["cluster"] = [cluster.cluster_run(servers, scratch, step) for servers in cluster.RASA_SERVERS]

    text = report(facts)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    step(f"written to {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
