"""Microsoft's Bot Framework services, faked on loopback over real HTTP.

It plays the parts the bot talks to: the OpenID metadata and the signing keys (a JWKS with an
RSA key generated here), the token endpoint (client credentials, /{tenant}/oauth2/v2.0/token),
and the Bot Connector that receives the bot's replies at the activity's serviceUrl
(/v3/conversations/{id}/activities, which accepts only tokens its own token endpoint issued).
`activity_token` signs what Bot Framework would send with an activity.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://api.botframework.com"
SCOPE = "https://api.botframework.com/.default"
KEY_ID = "fake-bot-framework-key"
# The bot registered with the fake: its app id, secret and (single) tenant.
APP_ID = "00000000-0000-4000-8000-000000000001"
APP_PASSWORD = "test-client-secret"
TENANT_ID = "00000000-0000-4000-8000-0000000000aa"
CHANNEL = "msteams"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FakeBotFramework:
    def __init__(self, app_id: str = APP_ID, app_password: str = APP_PASSWORD) -> None:
        self.app_id = app_id
        self.app_password = app_password
        self.key = new_key()
        self.issued_tokens: set[str] = set()
        self.token_requests: list[dict] = []  # {"tenant": ..., "form": {...}}
        self.received: list[dict] = []  # {"conversation": ..., "activity": {...}}
        self.refused: list[str] = []  # paths of requests refused for want of a valid token
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.openid_metadata_url = f"{self.url}/v1/.well-known/openidconfiguration"
        self.token_url = f"{self.url}/{{tenant}}/oauth2/v2.0/token"
        self.service_url = f"{self.url}/teams/"

    def start(self) -> FakeBotFramework:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def activities(self, conversation: str) -> list[dict]:
        """The activities the bot has posted to a conversation so far."""
        with self.lock:
            return [r["activity"] for r in self.received if r["conversation"] == conversation]

    def replies(self, conversation: str, count: int = 1, timeout: float = 120) -> list[dict]:
        """The activities posted to a conversation once there are `count` of them: the bot
        answers after the webhook has returned. Fails if they do not come within `timeout`."""
        return self.wait(lambda: len(self.activities(conversation)) >= count, timeout, conversation)

    def reply_to(self, conversation: str, activity_id: str, timeout: float = 120) -> dict:
        """The bot's one reply to an activity, once it has come."""

        def replied() -> bool:
            return any(a.get("replyToId") == activity_id for a in self.activities(conversation))

        [reply] = [a for a in self.wait(replied, timeout, conversation) if a.get("replyToId") == activity_id]
        return reply

    def wait(self, done, timeout: float, conversation: str) -> list[dict]:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError(f"no such reply in {conversation}: {self.activities(conversation)}")
            time.sleep(0.1)
        return self.activities(conversation)

    def activity_token(self, key=None, kid=KEY_ID, algorithm="RS256", **claims) -> str:
        """A token as Bot Framework sends with an activity: valid, unless another signing key, key
        id, algorithm or claims are given (a claim given as None is left out)."""
        now = int(time.time())
        payload = {
            "iss": ISSUER,
            "aud": self.app_id,
            "serviceurl": self.service_url,
            "nbf": now - 60,
            "iat": now - 60,
            "exp": now + 3600,
            **claims,
        }
        payload = {name: value for name, value in payload.items() if value is not None}
        signing_key = None if algorithm == "none" else key or self.key
        return jwt.encode(payload, signing_key, algorithm=algorithm, headers={"kid": kid})

    def jwks(self) -> dict:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**jwk, "kid": KEY_ID, "use": "sig", "endorsements": [CHANNEL]}]}

    def handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def reply(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path == "/v1/.well-known/openidconfiguration":
                    self.reply(
                        200,
                        {
                            "issuer": ISSUER,
                            "authorization_endpoint": f"{fake.url}/v1/authorize",
                            "jwks_uri": f"{fake.url}/v1/.well-known/keys",
                            "id_token_signing_alg_values_supported": ["RS256"],
                            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                        },
                    )
                elif self.path == "/v1/.well-known/keys":
                    self.reply(200, fake.jwks())
                else:
                    self.reply(404, {"error": "not found"})

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                token = re.fullmatch(r"/([^/]+)/oauth2/v2\.0/token", self.path)
                activities = re.fullmatch(r"/teams/v3/conversations/([^/]+)/activities", self.path)
                if token:
                    self.token(token.group(1), body)
                elif activities:
                    self.activity(unquote(activities.group(1)), body)
                else:
                    self.reply(404, {"error": "not found"})

            def token(self, tenant: str, body: bytes) -> None:
                form = {name: values[0] for name, values in parse_qs(body.decode()).items()}
                with fake.lock:
                    fake.token_requests.append({"tenant": tenant, "form": form})
                expected = {
                    "grant_type": "client_credentials",
                    "client_id": fake.app_id,
                    "client_secret": fake.app_password,
                    "scope": SCOPE,
                }
                if form != expected:
                    self.reply(401, {"error": "invalid_client"})
                    return
                access_token = secrets.token_urlsafe(32)
                with fake.lock:
                    fake.issued_tokens.add(access_token)
                self.reply(200, {"token_type": "Bearer", "expires_in": 3599, "access_token": access_token})

            def activity(self, conversation: str, body: bytes) -> None:
                scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
                with fake.lock:
                    authorized = scheme == "Bearer" and token in fake.issued_tokens
                    if authorized:
                        fake.received.append({"conversation": conversation, "activity": json.loads(body)})
                    else:
                        fake.refused.append(self.path)
                if authorized:
                    self.reply(200, {"id": secrets.token_hex(8)})
                else:
                    self.reply(401, {"error": {"code": "Unauthorized"}})

        return Handler
