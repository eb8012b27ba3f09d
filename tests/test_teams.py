"""The Teams channel of the running Rasa server (started by scripts/run.sh), with a fake of
Microsoft's Bot Framework services on loopback (tests/fake_botframework.py): a correctly signed
activity gets its reply posted to the fake's Bot Connector; anything else gets 401 and nothing
reaches a conversation."""

import json
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml
from fake_botframework import APP_ID, TENANT_ID, new_key

from bot.answer import cite
from bot.corpus import load_corpus
from channels.cards import ADAPTIVE_CARD

ROOT = Path(__file__).resolve().parent.parent
TEAMS = "http://127.0.0.1:5005/webhooks/teams/webhook"
BOT = f"28:{APP_ID}"
QUESTION = "Can I tweet my view on a planning application before the committee decides?"
RESPONSES = yaml.safe_load((ROOT / "domain.yml").read_text())["responses"]


def activity(fake, conversation, kind="personal", **fields):
    """An activity as Teams sends it to the bot, in a conversation of a kind (personal, channel or
    groupChat), from a user of its own."""
    return {
        "type": "message",
        "id": uuid.uuid4().hex,
        "channelId": "msteams",
        "serviceUrl": fake.service_url,
        "from": {"id": f"29:user-{uuid.uuid4().hex}", "name": "Cllr Test"},
        "recipient": {"id": BOT, "name": "Social media guidance"},
        "conversation": {"id": conversation, "conversationType": kind},
        **fields,
    }


def post(body, token=None):
    """The status and text of the webhook's response."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(TEAMS, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def card_of(reply):
    [attachment] = reply["attachments"]
    assert attachment["contentType"] == ADAPTIVE_CARD
    return attachment["content"]


def test_a_signed_question_gets_one_card_quoting_the_guidance_with_citations(servers, fake_botframework):
    conversation = "a:1planning-question"
    question = activity(fake_botframework, conversation, text=QUESTION)
    assert post(question, fake_botframework.activity_token())[0] == 200

    [reply] = fake_botframework.activities(conversation)
    assert reply["type"] == "message" and reply["replyToId"] == question["id"]
    assert reply["from"]["id"] == BOT and reply["recipient"] == question["from"]
    assert reply["conversation"] == question["conversation"]
    blocks = card_of(reply)["body"]
    passages = {p.text: p for p in load_corpus(ROOT / "corpus").passages}
    quotes = [(i, b) for i, b in enumerate(blocks) if b["text"].startswith("“")]
    assert 1 <= len(quotes) <= 3
    for i, quote in quotes:
        passage = passages[quote["text"][1:-1]]  # verbatim: exactly one passage's text
        citation = blocks[i + 1]
        assert citation["text"] == f"— {cite(passage)}"
        assert citation["isSubtle"] and citation["size"] == "Small"
    best = passages[quotes[0][1]["text"][1:-1]]
    assert quotes[0][0] == 0 and "predetermination" in (best.text + best.section_path).lower()
    assert not any("\n— " in b["text"] for b in blocks), "no plain-text copy of a quote"


def test_replies_carry_a_token_from_the_bots_tenant_fetched_once(servers, fake_botframework):
    for _ in range(2):
        assert post(activity(fake_botframework, "a:1token", text="hello"), fake_botframework.activity_token())[0] == 200
    assert len(fake_botframework.activities("a:1token")) == 2
    assert [r["tenant"] for r in fake_botframework.token_requests] == [TENANT_ID]
    assert fake_botframework.refused == []


def test_adding_the_bot_to_a_team_posts_a_welcome_card(servers, fake_botframework):
    conversation = "19:welcome@thread.tacv2"
    update = activity(
        fake_botframework,
        conversation,
        type="conversationUpdate",
        kind="channel",
        membersAdded=[{"id": BOT}],
    )
    assert post(update, fake_botframework.activity_token())[0] == 200
    [reply] = fake_botframework.activities(conversation)
    assert [b["text"] for b in card_of(reply)["body"]] == [RESPONSES["utter_greet"][0]["text"]]


def test_someone_else_joining_gets_no_welcome(servers, fake_botframework):
    conversation = "19:someone-joins@thread.tacv2"
    update = activity(fake_botframework, conversation, type="conversationUpdate", membersAdded=[{"id": "29:new"}])
    assert post(update, fake_botframework.activity_token())[0] == 200
    assert fake_botframework.activities(conversation) == []


def test_a_channel_message_is_read_without_the_mention_of_the_bot(servers, fake_botframework):
    """'/help' is the help intent only as the whole message, so the reply shows the mention was
    taken out."""
    conversation = "19:general@thread.tacv2;messageid=1700000000000"
    message = activity(
        fake_botframework,
        conversation,
        text="<at>Social media guidance</at> /help",
        kind="channel",
        entities=[{"type": "mention", "text": "<at>Social media guidance</at>", "mentioned": {"id": BOT}}],
    )
    assert post(message, fake_botframework.activity_token())[0] == 200
    [reply] = fake_botframework.activities(conversation)
    assert reply["text"] == RESPONSES["utter_help"][0]["text"]


def test_a_clicked_card_button_sends_its_payload(servers, fake_botframework):
    click = activity(fake_botframework, "a:1click", value={"payload": "/help"})
    assert post(click, fake_botframework.activity_token())[0] == 200
    [reply] = fake_botframework.activities("a:1click")
    assert reply["text"] == RESPONSES["utter_help"][0]["text"]


def tokens(fake):
    now = int(time.time())
    return {
        "no token": None,
        "signed with another key": fake.activity_token(key=new_key()),
        "an unknown key id": fake.activity_token(kid="not-a-published-key"),
        "not signed (alg none)": fake.activity_token(algorithm="none"),
        "expired": fake.activity_token(exp=now - 600, nbf=now - 4200, iat=now - 4200),
        "for another bot": fake.activity_token(aud="11111111-1111-4111-8111-111111111111"),
        "from another issuer": fake.activity_token(iss="https://login.example.com"),
        "for another serviceUrl": fake.activity_token(serviceurl="https://elsewhere.example/"),
    }


REASONS = {
    "no token": "no bearer token in the Authorization header",
    "signed with another key": "invalid token: Signature verification failed",
    "an unknown key id": "the token's signing key 'not-a-published-key' is not a published key",
    "not signed (alg none)": "the token is signed with 'none', not RS256",
    "expired": "invalid token: Signature has expired",
    "for another bot": "invalid token: Audience doesn't match",
    "from another issuer": "invalid token: Invalid issuer",
    "for another serviceUrl": "the token's serviceurl 'https://elsewhere.example/' is not the activity's serviceUrl",
}


@pytest.mark.parametrize("case", list(REASONS))
def test_an_activity_without_a_valid_token_is_refused_and_goes_nowhere(servers, fake_botframework, case):
    conversation = f"a:1refused-{case}"
    status, text = post(activity(fake_botframework, conversation, text=QUESTION), tokens(fake_botframework)[case])
    assert (status, text) == (401, "Unauthorized: the activity's token is missing or not valid.")
    assert fake_botframework.activities(conversation) == []
    log = (servers.logs / "rasa.log").read_text()
    assert f"Teams: activity refused (401): {REASONS[case]}" in log


def test_a_body_that_is_not_an_activity_is_refused(servers, fake_botframework):
    assert post(b"not json", fake_botframework.activity_token())[0] == 400
    assert post([1, 2], fake_botframework.activity_token())[0] == 400
