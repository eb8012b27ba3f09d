"""scripts/rasa_server.py's changes to Rasa, in a Rasa process of their own."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

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
    result = subprocess.run(
        [sys.executable, "-c", TWO_ACTIONS], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"replies": [{"events": [], "responses": []}] * 2, "connections": 1}
