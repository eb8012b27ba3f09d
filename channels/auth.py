"""Bot Framework security: the token on every activity that reaches the bot is checked, and the
bot gets its own token (client credentials) to send replies."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import aiohttp
import jwt

log = logging.getLogger(__name__)

BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default"
CLOCK_SKEW = 5 * 60  # seconds of clock difference allowed on a token's times, as Bot Framework allows
KEYS_MAX_AGE = 24 * 3600  # the signing keys are fetched again daily...
REFETCH_INTERVAL = 60  # ...or when a token names an unknown key, but not more than once a minute
TOKEN_RENEWAL_MARGIN = 5 * 60  # the bot's own token is renewed this long before it expires
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=20)


class Unauthorized(Exception):
    """The request does not prove that Bot Framework sent it to this bot."""


class ServiceError(Exception):
    """A Bot Framework service could not be reached or refused the bot."""


async def request_json(method: str, url: str, **kwargs) -> dict:
    """The JSON object a service answers with; ServiceError if it fails or answers otherwise."""
    try:
        async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as session:
            async with session.request(method, url, **kwargs) as response:
                text = await response.text()
                if response.status >= 300:
                    raise ServiceError(f"{method} {url}: HTTP {response.status}: {text[:500]}")
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        raise ServiceError(f"{method} {url}: {error!r}") from None
    try:
        body = json.loads(text) if text else {}
    except ValueError:
        raise ServiceError(f"{method} {url}: the answer is not JSON: {text[:200]}") from None
    if not isinstance(body, dict):
        raise ServiceError(f"{method} {url}: the answer is not a JSON object: {text[:200]}")
    return body


class ActivityTokenValidator:
    """Checks an inbound activity's bearer token as Bot Framework requires: an RS256 signature by
    a key published through the OpenID metadata (and endorsed for the activity's channel), the
    metadata's issuer, this bot's app id as audience, a current validity period, and a serviceurl
    claim equal to the activity's serviceUrl, so the bot's replies, which carry its own token, go
    only where Bot Framework said."""

    def __init__(self, app_id: str, openid_metadata_url: str) -> None:
        self.app_id = app_id
        self.openid_metadata_url = openid_metadata_url
        self.issuer = ""
        self.keys: dict[str, dict] = {}
        self.fetched_at = float("-inf")
        self.tried_at = float("-inf")

    async def validate(self, authorization: str | None, activity: dict) -> dict:
        """The token's claims; Unauthorized, saying why, if the activity is not proven."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("no bearer token in the Authorization header")
        try:
            header = jwt.get_unverified_header(token.strip())
        except jwt.PyJWTError as error:
            raise Unauthorized(f"malformed token: {error}") from None
        if header.get("alg") != "RS256":
            raise Unauthorized(f"the token is signed with {header.get('alg')!r}, not RS256")
        key = await self.signing_key(header.get("kid"))
        try:
            claims = jwt.decode(
                token.strip(),
                jwt.PyJWK(key, "RS256").key,
                algorithms=["RS256"],
                audience=self.app_id,
                issuer=self.issuer,
                leeway=CLOCK_SKEW,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as error:
            raise Unauthorized(f"invalid token: {error}") from None
        channel = activity.get("channelId")
        if "endorsements" in key and channel not in key["endorsements"]:
            raise Unauthorized(f"the signing key is not endorsed for channel {channel!r}")
        if claims.get("serviceurl") != activity.get("serviceUrl"):
            raise Unauthorized(
                f"the token's serviceurl {claims.get('serviceurl')!r} is not the activity's "
                f"serviceUrl {activity.get('serviceUrl')!r}"
            )
        return claims

    async def signing_key(self, kid: str | None) -> dict:
        now = time.monotonic()
        stale = now - self.fetched_at > KEYS_MAX_AGE or kid not in self.keys
        if stale and now - self.tried_at > REFETCH_INTERVAL:
            self.tried_at = now
            await self.fetch_keys()
        if kid not in self.keys:
            raise Unauthorized(f"the token's signing key {kid!r} is not a published key")
        return self.keys[kid]

    async def fetch_keys(self) -> None:
        """Reads the issuer and the signing keys (the metadata's jwks_uri); on failure the keys
        already known stay in use.

        PyJWT's PyJWKClient is not used for the keys: it reads them with blocking urllib (this
        runs in the server's event loop), stops trusting the known keys when a refresh fails
        after its cache has expired, and keeps a key's `endorsements` only in a private
        attribute; and the issuer would still need this metadata request."""
        try:
            metadata = await request_json("GET", self.openid_metadata_url)
            jwks = await request_json("GET", metadata["jwks_uri"])
            keys = {key["kid"]: key for key in jwks["keys"]}
            issuer = metadata["issuer"]
        except (ServiceError, KeyError, TypeError) as error:
            log.error("Teams: could not fetch the Bot Framework signing keys: %r", error)
            return
        self.keys, self.issuer, self.fetched_at = keys, issuer, time.monotonic()


class BotToken:
    """The bot's own access token for sending to Bot Framework, from the token endpoint
    (client credentials), kept until shortly before it expires."""

    def __init__(self, token_url: str, app_id: str, app_password: str) -> None:
        self.token_url = token_url
        self.app_id = app_id
        self.app_password = app_password
        self.token = ""
        self.renew_at = float("-inf")

    async def authorization(self) -> str:
        """The Authorization header value; ServiceError if no token can be had."""
        if time.monotonic() >= self.renew_at:
            form = {
                "grant_type": "client_credentials",
                "client_id": self.app_id,
                "client_secret": self.app_password,
                "scope": BOT_FRAMEWORK_SCOPE,
            }
            answer = await request_json("POST", self.token_url, data=form)
            try:
                token, lifetime = str(answer["access_token"]), int(answer["expires_in"])
            except (KeyError, ValueError) as error:
                raise ServiceError(f"the token endpoint's answer lacks {error}") from None
            self.token = token
            self.renew_at = time.monotonic() + lifetime - TOKEN_RENEWAL_MARGIN
        return f"Bearer {self.token}"
