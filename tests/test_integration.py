"""Both servers started as `make run` starts them, asked a question over real HTTP."""

import signal
import urllib.request
from pathlib import Path

import pytest

from bot.config import server_addresses
from bot.corpus import load_corpus
from rest_client import say

ROOT = Path(__file__).resolve().parent.parent


def test_question_over_rest_gets_a_quoted_cited_passage(servers):
    replies = say(
        "integration-test", "Can I tweet my view on a planning application before the committee decides?"
    )
    texts = [r["text"] for r in replies if "text" in r]
    assert texts, f"no text reply in {replies}"
    first = texts[0]
    quote, citation = first.split("\n— ")
    passages = {p.text: p for p in load_corpus(ROOT / "corpus").passages}
    assert quote.startswith("“") and quote.endswith("”")
    passage = passages[quote[1:-1]]  # verbatim: exactly one passage's text
    assert "predetermination" in (passage.text + passage.section_path).lower()
    assert citation.startswith(passage.document.council.name)
    assert citation.endswith(passage.section_path)
    assert len(texts) <= 3
    payloads = [r["custom"] for r in replies if "custom" in r]
    assert [q["text"] for q in payloads[0]["quotes"]][0] == passage.text


def test_a_follow_on_question_is_answered_in_the_conversations_context(servers):
    planning = "Can I tweet my view on a planning application before the committee decides?"
    say("integration-follow-on", planning)
    replies = say("integration-follow-on", "what about on Facebook?")
    assert "predetermination" in replies[0]["text"].lower(), replies
    other = say("integration-follow-on-alone", "what about on Facebook?")
    assert "predetermination" not in other[0]["text"].lower(), other


def test_greeting_gets_a_fixed_reply(servers):
    replies = say("integration-greeting", "hello")
    assert replies and "social media" in replies[0]["text"]


@pytest.mark.stops_servers
def test_ctrl_c_stops_all_servers(servers):
    servers.process.send_signal(signal.SIGINT)
    assert servers.process.wait(timeout=60) is not None
    for port in server_addresses().ports:
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
