"""Talking to the running Rasa server over real HTTP, as the REST channel's clients do."""

import json
import urllib.error
import urllib.request

from bench.load import WEBHOOK
from bot.config import server_addresses

RASA = server_addresses().rasa_url


def request(url, body=None, content_type="application/json", timeout=120):
    """(status, body text) of a GET, or of a POST when `body` (bytes) is given; HTTP errors are
    returned, not raised."""
    headers = {"Content-Type": content_type} if body is not None else {}
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, data=body, headers=headers), timeout=timeout
        ) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def say(sender, message):
    """The bot's replies to one message (a 200 response is required)."""
    status, body = request(WEBHOOK, json.dumps({"sender": sender, "message": message}).encode())
    assert status == 200, body
    return json.loads(body)


def texts(replies):
    return [r["text"] for r in replies if r.get("text")]


def payloads(replies):
    return [r["custom"] for r in replies if r.get("custom")]
