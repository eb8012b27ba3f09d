"""50 members chatting at once for 60 seconds over loopback: every message answered, no 5xx, no
timeouts (`make bench` records the figures in bench/results.md)."""

import asyncio
import collections

from bench import load
from rest_client import WEBHOOK


def test_fifty_members_for_a_minute_all_get_replies(servers):
    exchanges = asyncio.run(load.run(WEBHOOK, 50, seconds=60, prefix="test-load", timeout=30))
    summary = load.summarise(exchanges)
    statuses = collections.Counter(e.status for e in exchanges)
    problems = collections.Counter(e.error or e.reply_type for e in exchanges if not e.ok)
    assert summary.failed == 0, f"{problems} of {summary.count}; statuses {statuses}"
    assert summary.count >= 500  # every member kept getting replies, not just a few
    kinds = collections.Counter(e.reply_type for e in exchanges if e.kind == "answer")
    assert kinds["answer"] > 0.8 * sum(kinds.values()) and not kinds["apology"]
