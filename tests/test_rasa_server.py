"""scripts/rasa_server.py's changes to Rasa, in a Rasa process of their own."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def last_line_of(script: str):
    """The JSON a script printed last, run in a Python process of its own."""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


# Two custom actions' calls to an action server: through how many connections do they go?
TWO_ACTIONS = """
import asyncio, json, runpy
from aiohttp import web
runpy.run_path("scripts/rasa_server.py")
from rasa.utils.endpoints import EndpointConfig

async def main():
    peers = []

    async def webhook(request):
        peers.append(request.transport.get_extra_info("peername")[1])
        return web.json_response({"events": [], "responses": []})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook")
    replies = [await endpoint.request(json={"next_action": "a"}, method="post") for _ in range(2)]
    await runner.cleanup()
    print(json.dumps({"replies": replies, "connections": len(set(peers))}))

asyncio.run(main())
"""


@pytest.mark.slow  # starts a Python process that imports Rasa (about 5 s)
def test_custom_actions_reuse_the_connection_to_the_action_server():
    outcome = last_line_of(TWO_ACTIONS)
    assert outcome == {"replies": [{"events": [], "responses": []}] * 2, "connections": 1}


# Replies an action server might send: does the split check agree with Rasa's whole schema?
REPLIES_CHECKED = """
import json, runpy
import jsonschema
checks = runpy.run_path("scripts/rasa_server.py")
from rasa.core.actions.action import RemoteAction

schema = RemoteAction.action_response_format_spec()
whole = jsonschema.validators.validator_for(schema)(schema)
replies = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "council", "value": "coventry"}], "responses": [{"text": "Hi"}]},
    {"events": [{"event": "slot", "name": "last_passages", "value": ["a", "b"], "timestamp": None}]},
    {"events": [{"event": "bot", "text": "Hi", "data": {"custom": {"type": "answer"}}}]},
    {"events": [{"event": "action", "name": "utter_greet", "policy": None, "confidence": 1.0}]},
    {"events": [{"event": "user", "text": "hi", "parse_data": {"intent": {"confidence": 0.9}}}]},
    {"events": [{"event": "user", "text": "hi", "parse_data": {"intent": {"confidence": "high"}}}]},
    {"events": [{"event": "slot", "value": 1}]},
    {"events": [{"event": "slot", "name": 3, "value": 1}]},
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"name": "council"}]},
    {"events": [{"event": 3}]},
    {"events": ["slot"]},
    {"events": "slot"},
    {"responses": "Hi"},
    {"responses": ["Hi"]},
    [],
    None,
]
print(json.dumps([[checks["valid_action_result"](r), whole.is_valid(r)] for r in replies]))
"""


@pytest.mark.slow  # starts a Python process that imports Rasa (about 5 s)
def test_action_replies_are_checked_as_rasas_whole_schema_checks_them():
    verdicts = last_line_of(REPLIES_CHECKED)
    assert [split for split, _ in verdicts] == [whole for _, whole in verdicts]
    assert [split for split, _ in verdicts].count(True) == 6  # the cases are not all alike


# Messages sent ahead to an action server that drops each connection after one reply, as Sanic
# drops a kept connection once it has been idle; then to no action server at all.
SENT_AHEAD = """
import json, runpy, socket, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
Prefetcher = runpy.run_path("scripts/rasa_server.py")["Prefetcher"]

received = []

class ActionServer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        received.append([self.path, json.loads(body)])
        reply = b'{"embedded": true}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)
        self.close_connection = True  # without saying so

    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), ActionServer)
threading.Thread(target=server.serve_forever, daemon=True).start()
ahead = Prefetcher(f"http://127.0.0.1:{server.server_port}/webhook")
for text in ["Can I block a troll?", "/full_section", "", "   ", None, "What about Instagram?"]:
    ahead(text)
    time.sleep(0.2)
for _ in range(100):
    if len(received) >= 2:
        break
    time.sleep(0.1)

with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    closed = probe.getsockname()[1]
nowhere = Prefetcher(f"http://127.0.0.1:{closed}/webhook")
nowhere("Can I block a troll?")
time.sleep(0.5)
print(json.dumps({"received": received}))
"""


@pytest.mark.slow  # starts a Python process that imports Rasa (about 5 s)
def test_messages_are_sent_ahead_to_the_action_server_but_button_payloads_are_not():
    outcome = last_line_of(SENT_AHEAD)
    assert outcome["received"] == [
        ["/prefetch", {"text": "Can I block a troll?"}],
        ["/prefetch", {"text": "What about Instagram?"}],
    ]
