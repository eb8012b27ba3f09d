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

from adaptive_cards import card_renderer
from bot.answer import cite
from bot.config import server_addresses
from bot.corpus import load_corpus
from channels.cards import ADAPTIVE_CARD, markdown_text
from fake_botframework import APP_ID, TENANT_ID, new_key

ROOT = Path(__file__).resolve().parent.parent
TEAMS = f"{server_addresses().rasa_url}/webhooks/teams/webhook"
BOT = f"28:{APP_ID}"
QUESTION = "Can I tweet my view on a planning application before the committee decides?"
RESPONSES = yaml.safe_load((ROOT / "domain.yml").read_text())["responses"]


def activity(fake, conversation, kind="personal", member=None, **fields):
    """An activity as Teams sends it to the bot, in a conversation of a kind (personal, channel or
    groupChat), from a user of its own unless a `member` id is given."""
    return {
        "type": "message",
        "id": uuid.uuid4().hex,
        "channelId": "msteams",
        "serviceUrl": fake.service_url,
        "from": {"id": member or f"29:user-{uuid.uuid4().hex}", "name": "Cllr Test"},
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


def ask(fake, conversation, text, **fields):
    """Sends a message and returns the one reply it gets."""
    message = activity(fake, conversation, text=text, **fields)
    assert post(message, fake.activity_token())[0] == 200
    return fake.reply_to(conversation, message["id"])


def card_of(reply):
    """The reply's one card; a reply is never anything else."""
    assert set(reply) >= {"attachments", "summary"} and not reply.get("text")
    [attachment] = reply["attachments"]
    assert attachment["contentType"] == ADAPTIVE_CARD
    card = attachment["content"]
    assert card["version"] == "1.4" and card["fallbackText"]
    return card


PASSAGES = {p.text: p for p in load_corpus(ROOT / "corpus").passages}
QUOTED = {markdown_text(f"“{text}”"): passage for text, passage in PASSAGES.items()}


def quotes_of(card):
    """The passages a card quotes, each with its block."""
    return [(QUOTED[b["text"]], b) for b in card["body"] if b.get("id", "").startswith("quote-")]


def test_a_signed_question_gets_one_card_quoting_the_guidance_with_citations(servers, fake_botframework):
    conversation = "a:1planning-question"
    question = activity(fake_botframework, conversation, text=QUESTION)
    assert post(question, fake_botframework.activity_token())[0] == 200

    [reply] = fake_botframework.replies(conversation)
    assert reply["type"] == "message" and reply["replyToId"] == question["id"]
    assert reply["from"]["id"] == BOT and reply["recipient"] == question["from"]
    assert reply["conversation"] == question["conversation"]
    card = card_of(reply)
    blocks = card["body"]
    quotes = quotes_of(card)
    assert 1 <= len(quotes) <= 3
    for passage, quote in quotes:
        citation = blocks[blocks.index(quote) + 1]
        assert citation["text"] == markdown_text(f"— {cite(passage)}")
        assert citation["isSubtle"] and citation["size"] == "Small"
    best, first = quotes[0]
    assert blocks[0] is first and "predetermination" in (best.text + best.section_path).lower()
    assert not any("\n— " in b["text"] for b in blocks), "no plain-text copy of a quote"
    assert reply["summary"].startswith("“" + best.text[:40])


def test_replies_carry_a_token_from_the_bots_tenant_fetched_once(servers, fake_botframework):
    for _ in range(2):
        ask(fake_botframework, "a:1token", "hello")
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
    [reply] = fake_botframework.replies(conversation)
    assert [b["text"] for b in card_of(reply)["body"]] == [markdown_text(RESPONSES["utter_greet"][0]["text"])]


def test_someone_else_joining_gets_no_welcome(servers, fake_botframework):
    conversation = "19:someone-joins@thread.tacv2"
    update = activity(
        fake_botframework, conversation, type="conversationUpdate", membersAdded=[{"id": "29:new"}]
    )
    assert post(update, fake_botframework.activity_token())[0] == 200
    ask(fake_botframework, conversation, "hello")  # answered after anything the update started
    assert len(fake_botframework.activities(conversation)) == 1


def test_a_channel_message_is_read_without_the_mention_of_the_bot(servers, fake_botframework):
    """'/help' is the help intent only as the whole message, so the reply shows the mention was
    taken out."""
    conversation = "19:general@thread.tacv2;messageid=1700000000000"
    reply = ask(
        fake_botframework,
        conversation,
        "<at>Social media guidance</at> /help",
        kind="channel",
        entities=[{"type": "mention", "text": "<at>Social media guidance</at>", "mentioned": {"id": BOT}}],
    )
    assert [b["text"] for b in card_of(reply)["body"]] == [markdown_text(RESPONSES["utter_help"][0]["text"])]


def test_a_clicked_card_button_sends_its_payload(servers, fake_botframework):
    click = activity(fake_botframework, "a:1click", value={"payload": "/help"})
    assert post(click, fake_botframework.activity_token())[0] == 200
    [reply] = fake_botframework.replies("a:1click")
    assert [b["text"] for b in card_of(reply)["body"]] == [markdown_text(RESPONSES["utter_help"][0]["text"])]


def test_a_retried_activity_is_answered_once(servers, fake_botframework):
    conversation = "a:1retried"
    question = activity(fake_botframework, conversation, text=QUESTION)
    for _ in range(3):  # Bot Framework's retries carry the same activity id
        assert post(question, fake_botframework.activity_token())[0] == 200
    fake_botframework.reply_to(conversation, question["id"])
    ask(fake_botframework, conversation, "hello")  # answered after anything the copies started
    replies = fake_botframework.activities(conversation)
    assert [r["replyToId"] for r in replies].count(question["id"]) == 1
    assert len(replies) == 2


def test_the_same_member_in_two_chats_has_two_conversations(servers, fake_botframework):
    """A follow-up in one chat is about what was asked in that chat, not in the member's other chats."""
    member = f"29:user-{uuid.uuid4().hex}"
    private, thread = "a:1two-chats", "19:two-chats@thread.tacv2;messageid=1700000000001"
    ask(fake_botframework, private, QUESTION, member=member)
    in_thread = card_of(ask(fake_botframework, thread, "/full_section", member=member, kind="channel"))
    assert [b["text"] for b in in_thread["body"]] == [
        markdown_text(
            "Ask me a question first, and then I can show you the whole section its answer comes from."
        )
    ]
    in_private = card_of(ask(fake_botframework, private, "/full_section", member=member))
    assert in_private["body"][0]["text"].startswith("The whole of") and quotes_of(in_private)


def every_reply_type(fake):
    """One reply of each kind the assistant sends, by name."""
    chat = "a:1every-reply-type"
    return {
        "answer": ask(fake, chat, QUESTION),
        "full section": ask(fake, chat, "/full_section"),
        "other councils": ask(fake, chat, "/other_councils"),
        "not covered": ask(fake, chat, "Is there guidance on using drones to film ward walkabouts?"),
        "help": ask(fake, chat, "/help"),
        "message not read": ask(fake, chat, "x" * 2001),
    }


@pytest.mark.browser  # renders the cards in Chromium
def test_every_reply_type_is_one_valid_card_whose_quotes_render_verbatim(servers, fake_botframework):
    replies = every_reply_type(fake_botframework)
    cards = {name: card_of(reply) for name, reply in replies.items()}
    with card_renderer() as renderer:
        for name, card in cards.items():
            rendered = renderer.render(card)
            assert rendered["problems"] == [], name
            assert rendered["markup"] == 0, name
            for passage, block in quotes_of(card):
                assert rendered["blocks"][block["id"]]["paragraphs"] == [f"“{passage.text}”"], name
    assert len(quotes_of(cards["full section"])) >= 1
    assert "does not cover" in cards["not covered"]["fallbackText"]
    assert cards["other councils"]["body"][0]["text"].startswith("What each council")


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
    "for another serviceUrl": (
        "the token's serviceurl 'https://elsewhere.example/' is not the activity's serviceUrl"
    ),
}


@pytest.mark.parametrize("case", list(REASONS))
def test_an_activity_without_a_valid_token_is_refused_and_goes_nowhere(servers, fake_botframework, case):
    conversation = f"a:1refused-{case}"
    status, text = post(
        activity(fake_botframework, conversation, text=QUESTION), tokens(fake_botframework)[case]
    )
    assert (status, text) == (401, "Unauthorized: the activity's token is missing or not valid.")
    assert fake_botframework.activities(conversation) == []
    log = (servers.logs / "rasa.log").read_text()
    assert f"Teams: activity refused (401): {REASONS[case]}" in log


def test_a_body_that_is_not_an_activity_is_refused(servers, fake_botframework):
    assert post(b"not json", fake_botframework.activity_token())[0] == 400
    assert post([1, 2], fake_botframework.activity_token())[0] == 400
