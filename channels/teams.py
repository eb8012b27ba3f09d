"""Microsoft Teams channel: Rasa's Bot Framework connector, made fit for Teams.

Served at /webhooks/teams/webhook. Compared with Rasa's `botframework` channel it checks every
activity's token fully (see channels.auth), gets the bot's own token from its tenant's endpoint
(single-tenant bots), sends each turn as one Adaptive Card (see channels.cards) instead of
splitting text at blank lines, greets a chat or team when the bot is added to it, and takes the
bot's @mention out of channel messages before NLU reads them.

Each Teams conversation is a Rasa conversation of its own: a personal chat, a group chat, or one
thread of a team's channel (whose id Teams gives as the channel's id plus ";messageid=" and the
thread's first post). The webhook answers at once and the turn is handled in the background, so
Teams never waits long enough to send the activity again; an activity that comes again anyway is
recognised by its id and not answered twice (`RecentActivities`).

Settings come from credentials.yml, which takes them from TEAMS_* environment variables.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import quote

from rasa.core.channels.botframework import BotFramework, BotFrameworkInput
from rasa.core.channels.channel import UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.auth import ActivityTokenValidator, BotToken, ServiceError, Unauthorized, request_json
from channels.cards import turn_card
from channels.checks import checked
from channels.rasa_version import require_rasa

require_rasa("The Microsoft Teams channel's changes to Rasa's Bot Framework connector (channels/teams.py)")

logger = logging.getLogger(__name__)

APP_TYPES = ("SingleTenant", "MultiTenant")
# What Rasa is told when the bot is added to a chat or team: the greet intent, so the welcome
# card says what the domain's greeting says.
WELCOME_MESSAGE = "/greet"
MENTION_TAGS = re.compile(r"</?at>")
# Bot Framework sends an activity again if the bot has not answered within about 15 seconds, and
# may do so for a few minutes: an hour's ids, at most this many, are remembered.
ACTIVITY_MEMORY_SECONDS = 3600
ACTIVITY_MEMORY_SIZE = 10_000


@dataclass(frozen=True)
class TeamsSettings:
    app_id: str = ""
    app_password: str = ""
    app_type: str = "SingleTenant"
    tenant_id: str = ""
    openid_metadata_url: str = "https://login.botframework.com/v1/.well-known/openidconfiguration"
    # {tenant} becomes the tenant id (SingleTenant) or botframework.com (MultiTenant).
    token_url: str = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TeamsSettings:
        """Settings from credentials.yml; an empty value means the default."""
        known = {f.name for f in fields(cls)}
        given = {key: str(value).strip() for key, value in (credentials or {}).items() if value is not None}
        for key in sorted(set(given) - known):
            logger.warning("Teams: unknown setting %r in credentials.yml is ignored", key)
        return cls(**{key: value for key, value in given.items() if key in known and value})

    def problem(self) -> str | None:
        """What stops the channel working, if anything."""
        if not self.app_id:
            return "no app id is set (TEAMS_APP_ID)"
        if not self.app_password:
            return "no app password is set (TEAMS_APP_PASSWORD)"
        if self.app_type not in APP_TYPES:
            return (
                f"the app type (TEAMS_APP_TYPE) is {self.app_type!r}; it must be SingleTenant or MultiTenant"
            )
        if self.app_type == "SingleTenant" and not self.tenant_id:
            return "a SingleTenant bot needs its tenant id (TEAMS_TENANT_ID)"
        return None

    def tenant_token_url(self) -> str:
        tenant = self.tenant_id if self.app_type == "SingleTenant" else "botframework.com"
        return self.token_url.replace("{tenant}", tenant)


def parse_activity(body: bytes) -> dict | None:
    """The activity in a request body, or None if the body is not one."""
    try:
        activity = json.loads(body)
    except ValueError:
        return None
    if isinstance(activity, dict) and isinstance(activity.get("type"), str):
        return activity
    return None


def is_addressed(activity: dict) -> bool:
    """Whether the activity says who sent it, to whom, in which conversation (a reply needs all three)."""
    parts = [activity.get(key) for key in ("from", "recipient", "conversation")]
    return all(isinstance(part, dict) and part.get("id") for part in parts)


def bot_was_added(activity: dict) -> bool:
    """Whether a conversationUpdate says the bot itself joined a chat or team."""
    bot = activity["recipient"]["id"]
    added = activity.get("membersAdded") or []
    return any(isinstance(member, dict) and member.get("id") == bot for member in added)


def user_text(activity: dict) -> str:
    """What the user said: the payload of a card button they clicked, or their text without the
    @mention of the bot that starts every message to it in a channel or group chat (other
    people's mentions keep their names)."""
    value = activity.get("value")
    if isinstance(value, dict) and isinstance(value.get("payload"), str):
        return value["payload"]
    text = activity.get("text") if isinstance(activity.get("text"), str) else ""
    for entity in activity.get("entities") or []:
        if not isinstance(entity, dict) or entity.get("type") != "mention":
            continue
        mentioned = entity.get("mentioned") or {}
        if mentioned.get("id") == activity["recipient"]["id"] and entity.get("text"):
            text = text.replace(entity["text"], " ")
    return " ".join(MENTION_TAGS.sub("", text).split())


def conversation_key(activity: dict) -> str:
    """The Rasa conversation of a Teams activity: its Teams conversation, which for a channel
    names the thread too, so each chat and each thread has its own history and follow-ups."""
    return activity["conversation"]["id"]


class RecentActivities:
    """The ids of the activities this process has taken in lately, so one that Bot Framework
    sends again is not answered again. Bounded in number and age; kept in memory, since a retry
    reaches the process that took the first attempt unless it restarted in between."""

    def __init__(
        self,
        max_age: float = ACTIVITY_MEMORY_SECONDS,
        max_size: int = ACTIVITY_MEMORY_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_age = max_age
        self.max_size = max_size
        self.clock = clock
        self.seen: OrderedDict[tuple[str, str], float] = OrderedDict()

    def first_time(self, activity: dict) -> bool:
        """Whether the activity is new, remembering it if so. One without an id counts as new."""
        if not isinstance(activity.get("id"), str) or not activity["id"]:
            return True
        now = self.clock()
        self.forget_before(now - self.max_age)
        key = (activity["conversation"]["id"], activity["id"])
        if key in self.seen:
            return False
        self.seen[key] = now
        while len(self.seen) > self.max_size:
            self.seen.popitem(last=False)
        return True

    def forget_before(self, moment: float) -> None:
        while self.seen and next(iter(self.seen.values())) < moment:
            self.seen.popitem(last=False)

    def __len__(self) -> int:
        return len(self.seen)


class TeamsOutput(BotFramework):
    """Replies in the conversation an activity came from. Rasa's messages, and the checks'
    refusals, are collected during the turn and go out together, as one card, when `send_turn`
    is called."""

    @classmethod
    def name(cls) -> str:
        return "teams"

    def __init__(self, activity: dict, token: BotToken) -> None:
        super().__init__(
            token.app_id,
            token.app_password,
            activity["conversation"],
            activity["recipient"],
            activity["serviceUrl"],
        )
        self.token = token
        self.user = activity["from"]
        self.reply_to_id = activity.get("id")
        self.messages: list[dict] = []

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.messages.append(dict(message))

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        self.messages.append({"text": text})

    async def send_turn(self) -> None:
        card = turn_card(self.messages)
        self.messages = []
        if card:
            await self.send(
                {
                    **card,
                    "from": self.bot,
                    "recipient": self.user,
                    "conversation": self.conversation,
                    "replyToId": self.reply_to_id,
                }
            )

    async def send(self, message_data: dict[str, Any]) -> None:
        conversation = quote(self.conversation["id"], safe="")
        url = f"{self.global_uri}conversations/{conversation}/activities"
        try:
            headers = {"Authorization": await self.token.authorization()}
            await request_json("POST", url, json=message_data, headers=headers)
        except ServiceError as error:
            logger.error("Teams: the reply could not be sent: %s", error)


class TeamsInput(BotFrameworkInput):
    """Receives Teams activities at /webhooks/teams/webhook."""

    @classmethod
    def name(cls) -> str:
        return "teams"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TeamsInput:
        return cls(TeamsSettings.from_credentials(credentials))

    def __init__(self, settings: TeamsSettings) -> None:
        # BotFrameworkInput.__init__ is not called: it fetches the signing keys at start-up, so
        # Rasa could not start without Microsoft's servers. They are fetched on first use instead.
        self.settings = settings
        self.app_id = settings.app_id
        self.app_password = settings.app_password
        self.problem = settings.problem()
        self.validator = ActivityTokenValidator(settings.app_id, settings.openid_metadata_url)
        self.token = BotToken(settings.tenant_token_url(), settings.app_id, settings.app_password)
        self.recent = RecentActivities()
        self.turns: set[asyncio.Task] = set()  # turns being answered; kept so none is collected
        if self.problem:
            logger.warning("Teams: the channel refuses every activity: %s", self.problem)
        else:
            logger.info("Teams: ready for app %s (%s)", settings.app_id, settings.app_type)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        on_new_message = checked(on_new_message)
        teams_webhook = Blueprint("teams_webhook", __name__)

        @teams_webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok" if not self.problem else "not configured"})

        @teams_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            return await self.receive(request.headers.get("Authorization"), request.body, on_new_message)

        return teams_webhook

    async def receive(
        self, authorization: str | None, body: bytes, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        """Takes in one activity and answers at once; the turn it starts is handled in the
        background. Nothing reaches a conversation unless its token is valid."""
        if self.problem:
            logger.warning("Teams: activity refused (401): the channel is not configured: %s", self.problem)
            return response.text("The Teams channel is not configured.", status=401)
        activity = parse_activity(body)
        if activity is None:
            return response.text("Expected a Bot Framework activity (a JSON object with a type).", status=400)
        try:
            await self.validator.validate(authorization, activity)
        except Unauthorized as reason:
            logger.warning("Teams: activity refused (401): %s", reason)
            return response.text("Unauthorized: the activity's token is missing or not valid.", status=401)

        kind = activity["type"]
        if kind in ("message", "conversationUpdate") and not is_addressed(activity):
            return response.text("The activity lacks the from, recipient or conversation id.", status=400)
        if kind == "message":
            text = user_text(activity)
        elif kind == "conversationUpdate" and bot_was_added(activity):
            text = WELCOME_MESSAGE
        else:
            logger.debug("Teams: nothing to do for a %s activity", kind)
            return response.text("")
        if not self.recent.first_time(activity):
            logger.info("Teams: activity %s was taken in before; not answered again", activity["id"])
            return response.text("")
        self.start_turn(self.converse(activity, text, on_new_message))
        return response.text("")

    def start_turn(self, turn: Awaitable[None]) -> None:
        task = asyncio.ensure_future(turn)
        self.turns.add(task)
        task.add_done_callback(self.turns.discard)

    async def converse(
        self,
        activity: dict,
        text: str,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> None:
        """Passes the user's message to Rasa, then sends the turn's reply."""
        output = TeamsOutput(activity, self.token)
        message = UserMessage(
            text,
            output,
            conversation_key(activity),
            input_channel=self.name(),
            metadata=self.add_attachments_to_metadata(activity, None),
        )
        try:
            await on_new_message(message)
        except Exception:
            logger.exception("Teams: the message could not be handled")
            return
        await output.send_turn()
