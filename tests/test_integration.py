"""Both servers started as `make run` starts them, asked a question over real HTTP."""

import json
import signal
import time
import urllib.request
from pathlib import Path

import pytest

from bot.config import server_addresses
from bot.corpus import load_corpus
from rest_client import request, say

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


def prefetch(body: bytes) -> tuple[int, dict]:
    url = f"http://127.0.0.1:{server_addresses().action_port}/prefetch"
    status, text = request(url, body)
    return status, json.loads(text)


def test_the_action_server_embeds_a_message_ahead_once(servers):
    message = json.dumps({"text": "Can a councillor post a selfie from the count on election night?"})
    message = message.encode()
    assert prefetch(message) == (200, {"embedded": True})
    assert prefetch(message) == (200, {"embedded": False})
    status, reply = prefetch(b"not json")
    assert status == 400 and "text" in reply["error"]
    status, reply = prefetch(json.dumps({"text": "x" * 2001}).encode())
    assert status == 400 and "2,001 characters" in reply["error"]


def test_the_rasa_server_sends_each_message_ahead_to_the_action_server(servers):
    greeting = "hello, good evening to you from the integration test"
    replies = say("integration-ahead", greeting)  # the fixed greeting: no action embeds it
    assert replies and replies[0]["text"].startswith("Hello. I answer questions"), replies
    time.sleep(1)  # it is sent from a thread of its own, beside the reply
    assert prefetch(json.dumps({"text": greeting}).encode()) == (200, {"embedded": False})


@pytest.mark.stops_servers
def test_ctrl_c_stops_all_servers(servers):
    servers.process.send_signal(signal.SIGINT)
    assert servers.process.wait(timeout=60) is not None
    for port in server_addresses().ports:
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
