"""The Teams channel's parts on their own: the cards a turn becomes, what the user said, the
settings, and a channel that is not configured."""

import asyncio
import json
import re
from pathlib import Path

import pytest
from rasa.shared.utils.io import read_config_file

from channels.cards import ADAPTIVE_CARD, turn_activities
from channels.teams import TeamsInput, TeamsSettings, user_text

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


def card_content(activities):
    [activity] = activities
    [attachment] = activity["attachments"]
    assert attachment["contentType"] == ADAPTIVE_CARD
    return attachment["content"]


def test_an_answer_is_one_card_of_verbatim_quotes_each_with_its_citation_beneath():
    card = card_content(turn_activities(answer_turn()))
    assert card["type"] == "AdaptiveCard"
    assert [(b["text"], b.get("isSubtle", False)) for b in card["body"]] == [
        (f"“{QUOTES[0]['text']}”", False),
        (f"— {QUOTES[0]['citation']}", True),
        ("Peterborough City Council also says:", False),
        (f"“{QUOTES[1]['text']}”", False),  # whole, blank line and all
        (f"— {QUOTES[1]['citation']}", True),
    ]
    assert all(b["type"] == "TextBlock" and b["wrap"] for b in card["body"])
    assert {b["size"] for b in card["body"] if b.get("isSubtle")} == {"Small"}
    assert card["actions"] == []


def test_buttons_become_card_actions_whose_click_comes_back_as_the_payload():
    buttons = [{"title": "Full section", "payload": "/full_section"}]
    card = card_content(turn_activities(answer_turn(buttons)))
    [action] = card["actions"]
    assert action["type"] == "Action.Submit" and action["title"] == "Full section"
    assert action["data"]["msteams"] == {
        "type": "messageBack", "text": "/full_section", "displayText": "Full section"
    }
    # What Teams posts to the bot when the button is clicked:
    click = {"type": "message", "text": action["data"]["msteams"]["text"], "value": action["data"],
             "recipient": {"id": BOT}}
    assert user_text(click) == "/full_section"
    assert user_text({**click, "text": None}) == "/full_section"


def test_buttons_on_a_plain_message_make_a_card_too():
    turn = [{"text": "Which council?", "buttons": [{"title": "Coventry", "payload": "/council"}]}]
    card = card_content(turn_activities(turn))
    assert [b["text"] for b in card["body"]] == ["Which council?"]
    assert [a["title"] for a in card["actions"]] == ["Coventry"]


def test_plain_replies_go_as_text_messages_never_split_at_blank_lines():
    turn = [{"text": "You can ask me:\n\n- one thing\n\n- another"}, {"text": "Anything else?"}]
    assert turn_activities(turn) == [
        {"type": "message", "text": "You can ask me:\n\n- one thing\n\n- another"},
        {"type": "message", "text": "Anything else?"},
    ]


def test_not_covered_goes_as_its_text_alone():
    turn = [
        {"text": "The guidance does not cover that. Please ask your Monitoring Officer."},
        {"custom": {"type": "not_covered", "question": "Parking?", "contacts": "your Monitoring Officer"}},
    ]
    assert turn_activities(turn) == [
        {"type": "message", "text": "The guidance does not cover that. Please ask your Monitoring Officer."}
    ]


def test_a_welcome_is_a_card_even_of_plain_text_and_an_empty_turn_sends_nothing():
    card = card_content(turn_activities([{"text": "Hello."}], as_card=True))
    assert [b["text"] for b in card["body"]] == ["Hello."]
    assert turn_activities([]) == turn_activities([], as_card=True) == []


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
    """Rasa cannot read credentials.yml if a variable it names is unset: run.sh sets each one."""
    settings = [line for line in (ROOT / "credentials.yml").read_text().splitlines() if not line.startswith("#")]
    variables = set(re.findall(r"\$\{(\w+)\}", "\n".join(settings)))
    run_sh = (ROOT / "scripts" / "run.sh").read_text()
    assert variables and all(re.search(rf'{name}="\$\{{{name}:-[^}}]*\}}"', run_sh) for name in variables)

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
