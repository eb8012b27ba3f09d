"""Both servers started as `make run` starts them, asked a question over real HTTP."""

import json
import signal
import urllib.request
from pathlib import Path

import pytest

from bot.corpus import load_corpus

ROOT = Path(__file__).resolve().parent.parent
RASA = "http://127.0.0.1:5005"


def post(message, sender="integration-test"):
    request = urllib.request.Request(
        f"{RASA}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": message}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def test_question_over_rest_gets_a_quoted_cited_passage(servers):
    replies = post("Can I tweet my view on a planning application before the committee decides?")
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


def test_greeting_gets_a_fixed_reply(servers):
    replies = post("hello", sender="integration-greeting")
    assert replies and "social media" in replies[0]["text"]


@pytest.mark.stops_servers
def test_ctrl_c_stops_all_servers(servers):
    servers.send_signal(signal.SIGINT)
    assert servers.wait(timeout=60) is not None
    for port in (5005, 5055, 8080):
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
