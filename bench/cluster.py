"""The cluster part of `make bench`: `make cluster` (scripts/cluster.sh) with 1, 2 and 3 Rasa
servers in turn, each measured through HAProxy at 10 and at 50 members chatting at once, and the
peak memory of each server."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from bench.load import ROOT, WEBHOOK, first_answer, measure, peak_memory, run, start_servers

HEADING = "## Cluster"
RASA_SERVERS = (1, 2, 3)
ACTION_SERVERS = 2
# The database lives under var/: PostgreSQL runs as its own user, who cannot enter a private
# temporary directory.
CLUSTER_DIR = ROOT / "var" / "bench-cluster"


def cluster_run(rasa_servers: int, scratch: Path, step) -> dict:
    """Starts the cluster with `rasa_servers` Rasa servers, measures it, stops it."""
    shutil.rmtree(CLUSTER_DIR, ignore_errors=True)
    run_dir = scratch / f"cluster-{rasa_servers}"
    env = {
        **os.environ,
        "CLUSTER_RASA_SERVERS": str(rasa_servers),
        "CLUSTER_ACTION_SERVERS": str(ACTION_SERVERS),
        "CLUSTER_DIR": str(CLUSTER_DIR),
        "LOG_DIR": str(run_dir),
        "RUN_DIR": str(run_dir),
        "BOT_FEEDBACK_DB": str(scratch / "feedback.db"),
    }
    log = (scratch / f"make-cluster-{rasa_servers}.log").open("w")
    cluster = start_servers(["scripts/cluster.sh"], env, log)
    try:
        asyncio.run(first_answer(cluster, time.monotonic() + 600))
        asyncio.run(run(WEBHOOK, 4, requests=60, prefix=f"bench-cluster-{rasa_servers}-warm-up"))
        step(f"cluster of {rasa_servers} Rasa servers: 10 at once (400 messages)")
        at_10 = measure(10, f"bench-cluster-{rasa_servers}-10", requests=400)
        step(f"cluster of {rasa_servers} Rasa servers: 50 at once for 30 s")
        at_50 = measure(50, f"bench-cluster-{rasa_servers}-50", seconds=30)
        memory = {
            "rasa": max(peak_memory(run_dir / f"rasa-{i}.pid") for i in range(1, rasa_servers + 1)),
            "actions": max(peak_memory(run_dir / f"actions-{j}.pid") for j in range(1, ACTION_SERVERS + 1)),
        }
    finally:
        cluster.send_signal(signal.SIGTERM)  # scripts/cluster.sh stops everything in turn
        try:
            cluster.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(CLUSTER_DIR, ignore_errors=True)
    return {"rasa_servers": rasa_servers, "rows": [at_10, at_50], "memory": memory}


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def report(runs: list[dict], cores: int, measured: str) -> list[str]:
    """The cluster section of bench/results.md; `measured` says when, and how busy the machine was."""
    lines = [
        HEADING,
        "",
        f"Measured {measured}.",
        "",
        f"`make cluster` (scripts/cluster.sh) with 1, 2 and 3 Rasa servers and {ACTION_SERVERS} action "
        "servers, behind HAProxy, on PostgreSQL and Redis, all on this machine; members as above, "
        "without cookies (as REST and Teams clients), so HAProxy hands their messages to the Rasa "
        f"servers in turn. Per core: throughput divided by the machine's {cores} cores.",
        "",
        "| Rasa servers | at once | messages | throughput | per core | p50 | p95 | failed |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for entry in runs:
        for row in entry["rows"]:
            s, throughput = row["all"], row["throughput"]
            lines.append(
                f"| {entry['rasa_servers']} | {row['members']} | {s.count:,} | {throughput:.1f} messages/s "
                f"| {throughput / cores:.1f} messages/s | {ms(s.p50)} | {ms(s.p95)} | {s.failed} |"
            )
    lines += [
        "",
        "| Rasa servers | peak memory of a Rasa server | of an action server | all servers |",
        "| --- | --- | --- | --- |",
    ]
    for entry in runs:
        memory = entry["memory"]
        total = entry["rasa_servers"] * memory["rasa"] + ACTION_SERVERS * memory["actions"]
        lines.append(
            f"| {entry['rasa_servers']} | {memory['rasa'] / 1e6:,.0f} MB | {memory['actions'] / 1e6:,.0f} MB "
            f"| {total / 1e9:.2f} GB |"
        )
    at_50 = {entry["rasa_servers"]: entry["rows"][1]["throughput"] for entry in runs}
    one = at_50[min(at_50)]
    curve = ", ".join(f"{n}: {at_50[n]:.1f} messages/s ({at_50[n] / one:.2f} ×)" for n in sorted(at_50))
    lines += [
        "",
        f"The curve, at 50 members by Rasa servers: {curve}. Every message takes a Rasa server's "
        "time, a guidance question an action server's too, and PostgreSQL, Redis, HAProxy and the "
        f"simulated members take their share, all on the same {cores} cores. A Rasa server works "
        "on one message at a time, so it keeps at most one core busy: a second server adds "
        "throughput while a core is left idle, and once the cores are busy (with the servers, the "
        "stores and the simulated members) further servers add memory, not speed. On a machine "
        "busy with other work the curve flattens sooner. What more servers always give is a "
        "service that outlives a crashed server. Beyond that, more throughput takes more cores: "
        "servers on more machines (docs/cluster.md, Sizing).",
        "",
    ]
    return lines
