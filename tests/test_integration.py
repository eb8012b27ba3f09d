"""Both servers started as `make run` starts them, asked a question over real HTTP."""

import json
import os
import signal
import subprocess
import time
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


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    if not (ROOT / "models" / "current.tar.gz").exists():
        pytest.fail("no trained model: run `make train` (make test does) before this test")
    logs = tmp_path_factory.mktemp("logs")
    process = subprocess.Popen(
        ["scripts/run.sh"],
        cwd=ROOT,
        env={**os.environ, "LOG_DIR": str(logs)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output = []
    deadline = time.monotonic() + 600
    for line in process.stdout:
        output.append(line)
        if "==> ready" in line or time.monotonic() > deadline:
            break
    if process.poll() is not None or "==> ready" not in "".join(output):
        process.kill()
        logs_text = "".join(p.read_text()[-3000:] for p in logs.glob("*.log"))
        pytest.fail("servers did not start:\n" + "".join(output) + logs_text)
    yield process
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise


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


def test_ctrl_c_stops_both_servers(servers):
    servers.send_signal(signal.SIGINT)
    assert servers.wait(timeout=60) is not None
    for port in (5005, 5055):
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
