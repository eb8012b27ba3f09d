"""Who can reach what: the Rasa HTTP API's token, the action server on loopback, CORS, secrets
and logs."""

import re
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml

from bot.config import server_addresses
from rest_client import RASA, WEBHOOK, request, say

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("query", ["", "?token=", "?token=wrong-token-of-enough-length"])
def test_the_rasa_http_api_refuses_requests_without_the_token(servers, query):
    for path in ("/conversations/x/tracker", "/status", "/domain"):
        status, body = request(f"{RASA}{path}{query}")
        assert status == 401 and "NotAuthenticated" in body


def test_the_rasa_http_api_answers_with_the_token_from_the_environment(servers):
    say("security-api", "hello")
    status, body = request(f"{RASA}/conversations/security-api/tracker?token={servers.env['RASA_API_TOKEN']}")
    assert status == 200 and '"sender_id":"security-api"' in body


def listening_addresses(port):
    """The local addresses with a TCP socket listening on `port` (from /proc/net/tcp and tcp6)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state == "0A" and int(port_hex, 16) == port:
                found.append(address)
    return found


def test_the_action_server_listens_on_loopback_only(servers):
    assert listening_addresses(server_addresses().action_port) == ["0100007F"]  # 127.0.0.1


def test_cors_allows_only_the_configured_origins(servers):
    allowed = servers.env.get("CORS_ORIGINS", server_addresses().web_url)
    for origin, expected in ((allowed, allowed), ("https://elsewhere.example", None)):
        result = subprocess.run(
            [
                "curl",
                "-s",
                "-D",
                "-",
                "-o",
                "/dev/null",
                "-X",
                "OPTIONS",
                WEBHOOK,
                "-H",
                f"Origin: {origin}",
                "-H",
                "Access-Control-Request-Method: POST",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        match = re.search(r"(?im)^access-control-allow-origin: *(\S+)", result.stdout)
        assert (match.group(1) if match else None) == expected


def test_the_logs_carry_no_message_text_and_no_token(servers):
    marker = uuid.uuid4().hex
    say("security-logs", f"Can I post about the {marker} bypass on Facebook?")
    say("security-logs", "I'm a Coventry councillor")
    for log in servers.logs.glob("*.log"):
        text = log.read_text(errors="replace")
        assert marker not in text, f"{log.name} holds a member's message"
        assert "Coventry councillor" not in text, f"{log.name} holds a member's message"
        assert servers.env["RASA_API_TOKEN"] not in text, f"{log.name} holds the API token"


def test_credentials_come_from_the_environment():
    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text())
    for channel, settings in credentials.items():
        for key, value in (settings or {}).items():
            if re.search(r"password|secret|token|app_id|tenant", key):
                assert re.fullmatch(r"\$\{[A-Z_]+\}", str(value)), f"{channel}.{key} is not ${{VARIABLE}}"


def test_no_private_keys_or_passwords_are_committed():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    tracked.remove("tests/fake_botframework.py")  # the fake Microsoft service's made-up password
    secret = re.compile(
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----|(?i:(password|secret|api_token)\s*[:=]\s*['\"][^'\"$]{8,})"
    )
    for name in tracked:
        path = ROOT / name
        if path.is_file() and path.stat().st_size < 1_000_000:
            text = path.read_text(errors="ignore")
            assert not secret.search(text), f"{name} seems to hold a secret"


@pytest.mark.slow  # starts a Python process that imports Rasa (about 5 s)
def test_a_short_api_token_is_refused_with_a_clear_message():
    result = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "scripts/rasa_server.py"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "RASA_API_TOKEN": "short"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "RASA_API_TOKEN must be at least 16 characters long" in result.stderr
