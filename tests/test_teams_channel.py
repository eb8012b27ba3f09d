"""The Teams channel's parts on their own: the cards a turn becomes, what the user said, the
settings, and a channel that is not configured."""

import asyncio
import json
import re
from pathlib import Path

import pytest
from rasa.shared.utils.io import read_config_file

from channels.cards import ADAPTIVE_CARD, markdown_text, turn_card
from channels.teams import RecentActivities, TeamsInput, TeamsSettings, user_text

ROOT = Path(__file__).resolve().parent.parent
BOT = "28:00000000-0000-4000-8000-000000000001"

QUOTES = [
    {
        "passage_id": "broxtowe-3-3-bias",
        "text": "Bias and predetermination – do not say anything that suggests you have made your mind up.",
        "council": "Broxtowe Borough Council",
        "citation": "Broxtowe Borough Council, Social Media Guidance (2017), 3.3 Legal issues",
    },
    {
        "passage_id": "peterborough-avoid",
        "text": "Practices to avoid:\n\nNever comment on a planning application before it is decided.",
        "council": "Peterborough City Council",
        "citation": "Peterborough City Council, Draft Social Media Code (2019), Key Principles",
    },
]


def answer_turn(buttons=None):
    """The messages action_answer_question sends for a covered question."""
    first, other = QUOTES
    return [
        {"text": f"“{first['text']}”\n— {first['citation']}"},
        {"text": f"{other['council']} also says:\n“{other['text']}”\n— {other['citation']}"},
        {"custom": {"type": "answer", "question": "Can I comment?", "quotes": QUOTES}, "buttons": buttons},
    ]


SECTION = {
    "type": "section",
    "council": "Broxtowe Borough Council",
    "document": "Social Media Guidance",
    "section": "3.3 Legal issues",
    "citation": "Broxtowe Borough Council, Social Media Guidance (2017), 3.3 Legal issues",
    "passages": [
        {"passage_id": "a", "text": "First passage."},
        {"passage_id": "b", "text": "Second passage."},
    ],
}
COMPARISON = {
    "type": "comparison",
    "question": "Can I comment?",
    "councils": [
        {"council": "Broxtowe Borough Council", "addressed": True, **QUOTES[0]},
        {"council": "Coventry City Council", "addressed": False},
    ],
}


def card_content(activity):
    [attachment] = activity["attachments"]
    assert attachment["contentType"] == ADAPTIVE_CARD
    return attachment["content"]


def shown(card):
    """The card's blocks as (text, subtle)."""
    return [(b["text"], b.get("isSubtle", False)) for b in card["body"]]


def test_an_answer_is_one_card_of_verbatim_quotes_each_with_its_citation_beneath():
    activity = turn_card(answer_turn())
    card = card_content(activity)
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert shown(card) == [
        (markdown_text(f"“{QUOTES[0]['text']}”"), False),
        (markdown_text(f"— {QUOTES[0]['citation']}"), True),
        ("Peterborough City Council also says:", False),
        ("“Practices to avoid:\n\nNever comment on a planning application before it is decided.”", False),
        (markdown_text(f"— {QUOTES[1]['citation']}"), True),
    ]
    assert [b.get("id") for b in card["body"]] == ["quote-1", "citation-1", None, "quote-2", "citation-2"]
    assert all(b["type"] == "TextBlock" and b["wrap"] for b in card["body"])
    assert {b["size"] for b in card["body"] if b.get("isSubtle")} == {"Small"}
    assert card["actions"] == []
    # The plain-text messages are the fallback; the notification starts with the best quote.
    assert card["fallbackText"] == "\n\n".join(m["text"] for m in answer_turn() if m.get("text"))
    assert activity["summary"].startswith("“Bias and predetermination – do not say")


def test_buttons_become_card_actions_whose_click_comes_back_as_the_payload():
    buttons = [{"title": "Full section", "payload": "/full_section"}]
    card = card_content(turn_card(answer_turn(buttons)))
    [action] = card["actions"]
    assert action["type"] == "Action.Submit" and action["title"] == "Full section"
    assert action["data"]["msteams"] == {
        "type": "messageBack",
        "text": "/full_section",
        "displayText": "Full section",
    }
    # What Teams posts to the bot when the button is clicked:
    click = {
        "type": "message",
        "text": action["data"]["msteams"]["text"],
        "value": action["data"],
        "recipient": {"id": BOT},
    }
    assert user_text(click) == "/full_section"
    assert user_text({**click, "text": None}) == "/full_section"


def test_buttons_on_a_plain_message_make_a_card_too():
    turn = [{"text": "Which council?", "buttons": [{"title": "Coventry", "payload": "/council"}]}]
    card = card_content(turn_card(turn))
    assert [b["text"] for b in card["body"]] == ["Which council?"]
    assert [a["title"] for a in card["actions"]] == ["Coventry"]


def test_plain_replies_are_one_card_with_a_paragraph_per_line():
    turn = [{"text": "You can ask me:\n- one thing\n- another"}, {"text": "Anything else?"}]
    card = card_content(turn_card(turn))
    assert shown(card) == [
        ("You can ask me:\n\n\\- one thing\n\n\\- another", False),
        ("Anything else?", False),
    ]
    assert card["fallbackText"] == "You can ask me:\n- one thing\n- another\n\nAnything else?"


def test_a_full_section_is_its_heading_each_passage_and_one_citation():
    turn = [
        {
            "text": "The whole of 3.3 Legal issues:\n“First passage.”\n“Second passage.”\n"
            f"— {SECTION['citation']}"
        },
        {"custom": SECTION},
    ]
    card = card_content(turn_card(turn))
    assert shown(card) == [
        ("The whole of 3.3 Legal issues:", False),
        ("“First passage.”", False),
        ("“Second passage.”", False),
        (f"— {SECTION['citation']}", True),
    ]
    assert [b.get("id") for b in card["body"]] == [None, "quote-1", "quote-2", "citation-2"]


def test_a_comparison_is_one_card_with_a_part_per_council():
    turn = [
        {"text": f"Broxtowe Borough Council:\n“{QUOTES[0]['text']}”\n— {QUOTES[0]['citation']}"},
        {"text": "Coventry City Council: the guidance I have from this council does not address this."},
        {"custom": COMPARISON},
    ]
    card = card_content(turn_card(turn))
    assert shown(card) == [
        ("What each council's guidance says on “Can I comment?”:", False),
        ("Broxtowe Borough Council", False),
        (f"“{QUOTES[0]['text']}”", False),
        (f"— {QUOTES[0]['citation']}", True),
        ("Coventry City Council", False),
        ("The guidance I have from this council does not address this.", True),
    ]
    assert [b.get("separator", False) for b in card["body"]] == [False, True, False, False, True, False]


def test_not_covered_is_a_card_of_its_text_naming_who_to_ask():
    text = "The guidance does not cover that. Please ask your Monitoring Officer."
    turn = [
        {"text": text},
        {"custom": {"type": "not_covered", "question": "Parking?", "contacts": "your Monitoring Officer"}},
    ]
    activity = turn_card(turn)
    assert shown(card_content(activity)) == [(text, False)]
    assert activity["summary"] == text


def test_an_empty_turn_sends_nothing():
    assert turn_card([]) is None
    assert turn_card([{"custom": {"type": "not_covered"}}]) is None


@pytest.mark.parametrize(
    "text, markdown",
    [
        ("*bold* and _italic_", "\\*bold\\* and \\_italic\\_"),
        ("see [x](y)", "see \\[x\\](y)"),
        ("<b>bold</b> &amp;", "\\<b\\>bold\\</b\\> \\&amp;"),
        ("Y:\\Comms", "Y:\\\\Comms"),
        ("1. first\n2) second", "1\\. first\n\n2\\) second"),
        (
            "- item\n+ item\n# heading\n> quote\n===",
            "\\- item\n\n\\+ item\n\n\\# heading\n\n\\> quote\n\n\\===",
        ),
        ("a - b, 3.3 Legal #1", "a - b, 3.3 Legal #1"),
    ],
)
def test_markdown_is_escaped_and_line_breaks_become_paragraphs(text, markdown):
    assert markdown_text(text) == markdown


def test_the_bots_mention_is_taken_out_and_other_mentions_keep_their_names():
    activity = {
        "type": "message",
        "text": "<at>Social media guidance</at> Can I share <at>Cllr Jones</at>'s post?\n",
        "recipient": {"id": BOT},
        "entities": [
            {"type": "mention", "text": "<at>Social media guidance</at>", "mentioned": {"id": BOT}},
            {"type": "mention", "text": "<at>Cllr Jones</at>", "mentioned": {"id": "29:jones"}},
            {"type": "clientInfo", "locale": "en-GB"},
        ],
    }
    assert user_text(activity) == "Can I share Cllr Jones's post?"


def test_single_tenant_bots_get_their_token_from_their_tenant_and_multi_tenant_from_botframework():
    single = TeamsSettings(app_id="a", app_password="p", app_type="SingleTenant", tenant_id="t-1")
    multi = TeamsSettings(app_id="a", app_password="p", app_type="MultiTenant")
    assert single.tenant_token_url() == "https://login.microsoftonline.com/t-1/oauth2/v2.0/token"
    assert multi.tenant_token_url() == "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"
    assert single.problem() is None and multi.problem() is None


@pytest.mark.parametrize(
    "settings, problem",
    [
        ({}, "TEAMS_APP_ID"),
        ({"app_id": "a"}, "TEAMS_APP_PASSWORD"),
        ({"app_id": "a", "app_password": "p", "app_type": "Multi"}, "TEAMS_APP_TYPE"),
        ({"app_id": "a", "app_password": "p"}, "TEAMS_TENANT_ID"),
    ],
)
def test_incomplete_settings_are_named(settings, problem):
    assert problem in TeamsSettings.from_credentials(settings).problem()


def test_credentials_yml_loads_with_the_teams_variables_run_sh_sets_when_not_configured(monkeypatch, caplog):
    """Rasa cannot read credentials.yml if a variable it names is unset: scripts/servers.sh (for
    run.sh and cluster.sh) sets each one."""
    settings = [
        line for line in (ROOT / "credentials.yml").read_text().splitlines() if not line.startswith("#")
    ]
    variables = set(re.findall(r"\$\{(\w+)\}", "\n".join(settings)))
    servers_sh = (ROOT / "scripts" / "servers.sh").read_text()
    assert variables and all(re.search(rf'{name}="\$\{{{name}:-[^}}]*\}}"', servers_sh) for name in variables)

    for name in variables:
        monkeypatch.setenv(name, "")
    credentials = read_config_file(ROOT / "credentials.yml")
    assert "channels.rest.RestInput" in credentials
    channel = TeamsInput.from_credentials(credentials["channels.teams.TeamsInput"])

    received = []

    async def on_new_message(message):
        received.append(message)

    activity = json.dumps({"type": "message", "text": "hello", "serviceUrl": "https://x/"}).encode()
    response = asyncio.run(channel.receive("Bearer anything", activity, on_new_message))
    assert response.status == 401
    assert received == []
    assert "the channel is not configured: no app id is set (TEAMS_APP_ID)" in caplog.text


def teams_activity(conversation="a:1chat", activity_id="1", **fields):
    return {
        "type": "message",
        "id": activity_id,
        "text": "hello",
        "serviceUrl": "https://smba.example/",
        "from": {"id": "29:member"},
        "recipient": {"id": BOT},
        "conversation": {"id": conversation},
        **fields,
    }


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_an_activity_is_new_once_per_conversation_until_it_is_forgotten():
    clock = Clock()
    recent = RecentActivities(max_age=60, max_size=100, clock=clock)
    assert recent.first_time(teams_activity(activity_id="1"))
    assert not recent.first_time(teams_activity(activity_id="1"))
    assert recent.first_time(teams_activity(conversation="a:1other", activity_id="1"))
    assert recent.first_time(teams_activity(activity_id="2"))
    clock.now += 61
    assert recent.first_time(teams_activity(activity_id="1")), "forgotten after max_age"
    assert len(recent) == 1
    assert recent.first_time(teams_activity(activity_id=None)) and recent.first_time(
        teams_activity(activity_id=None)
    )


def test_the_record_of_activities_is_bounded():
    recent = RecentActivities(max_age=3600, max_size=3, clock=Clock())
    for activity_id in "12345":
        assert recent.first_time(teams_activity(activity_id=activity_id))
    assert len(recent) == 3
    assert not recent.first_time(teams_activity(activity_id="5"))
    assert recent.first_time(teams_activity(activity_id="1")), "the oldest went first"


def configured_channel():
    """A configured channel whose token check passes every activity."""
    settings = TeamsSettings(app_id="a", app_password="p", app_type="SingleTenant", tenant_id="t")
    channel = TeamsInput(settings)

    async def accept(authorization, activity):
        pass

    channel.validator.validate = accept
    return channel


def test_the_webhook_answers_at_once_and_a_repeated_activity_is_taken_in_once():
    """Teams sends an activity again if the webhook has not answered; the turn runs after the
    webhook has answered, and the second copy starts no turn."""
    channel = configured_channel()
    received, release = [], asyncio.Event()

    async def on_new_message(message):
        received.append(message)
        await release.wait()

    async def scenario():
        body = json.dumps(teams_activity(activity_id="retried")).encode()
        first = await channel.receive("Bearer x", body, on_new_message)
        again = await channel.receive("Bearer x", body, on_new_message)
        await asyncio.sleep(0)  # let the turn start
        assert (first.status, again.status) == (200, 200)
        assert len(received) == 1 and len(channel.turns) == 1, "still being answered"
        release.set()
        await asyncio.gather(*channel.turns)

    asyncio.run(scenario())
    assert [m.text for m in received] == ["hello"]
    assert not channel.turns


def test_each_chat_and_channel_thread_is_a_conversation_of_its_own():
    channel = configured_channel()
    received = []

    async def on_new_message(message):
        received.append(message.sender_id)

    chats = [
        "a:1personal",
        "19:group@thread.v2",
        "19:general@thread.tacv2;messageid=17",
        "19:general@thread.tacv2;messageid=18",
    ]

    async def scenario():
        for i, conversation in enumerate(chats):
            body = json.dumps(teams_activity(conversation=conversation, activity_id=str(i))).encode()
            await channel.receive("Bearer x", body, on_new_message)
        await asyncio.gather(*channel.turns)

    asyncio.run(scenario())
    assert received == chats  # the same member, four conversations
