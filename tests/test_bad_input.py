"""Bad input over real REST: each gets a clear reply or a 4xx with a reason, the Rasa server
stays up, and the conversation's next question is answered normally."""

import json

import pytest

from channels.checks import EMPTY_MESSAGE, NOT_ENGLISH
from rest_client import RASA, WEBHOOK, payloads, request, say, texts

NORMAL_QUESTION = "Can I tweet after a drink?"


def answered_normally(sender):
    replies = say(sender, NORMAL_QUESTION)
    [payload] = payloads(replies)
    assert payload["type"] == "answer"
    assert "consumed alcohol" in texts(replies)[0]


@pytest.fixture
def rasa_pid(servers):
    """Checks that the Rasa server is the same process, still up, when the test ends."""
    pid = servers.pid("rasa")
    yield pid
    assert servers.pid("rasa") == pid and servers.process.poll() is None
    assert request(RASA + "/")[0] == 200


# (name, message, the one reply expected; None: any reply)
MESSAGES = [
    ("empty", "", EMPTY_MESSAGE),
    ("whitespace", " \n\t  ", EMPTY_MESSAGE),
    (
        "long",
        ("Can I tweet about planning? " * 715)[:20000],
        "Your message is 20,000 characters long, and I can read at most 2,000.",
    ),
    ("control", "Can I\x00 tweet\x07 after\x1b a drink?\x7f", None),
    ("emoji", "🍺🍺 can I tweet after a drink? 🤔", None),
    ("html", "<script>alert('x')</script><img src=x onerror=alert(1)>", None),
    ("sql", "'; DROP TABLE events; -- can I tweet after a drink? OR 1=1", None),
    ("english-and-arabic", "Can I tweet after a drink? هل يمكنني النشر على فيسبوك", None),
    ("rtl", "هل يمكنني النشر على فيسبوك بعد شرب الكحول؟", NOT_ENGLISH),
    ("welsh", "A gaf i drydar ar ôl yfed?", NOT_ENGLISH),
    ("french", "Puis-je publier sur Facebook après avoir bu ?", NOT_ENGLISH),
    ("german", "Kann ich auf Twitter über Planungsanträge schreiben?", NOT_ENGLISH),
]


@pytest.mark.parametrize("name, message, expected", MESSAGES)
def test_each_message_gets_a_clear_reply_and_the_conversation_goes_on(
    servers, rasa_pid, name, message, expected
):
    sender = f"bad-input-{name}"
    replies = say(sender, message)
    assert texts(replies), f"no reply to {message!r}"
    assert not any("<script>" in text for text in texts(replies))
    if expected:
        assert texts(replies)[0].startswith(expected) and len(replies) == 1
    answered_normally(sender)


def test_a_message_at_the_limit_is_read(servers, rasa_pid):
    draft = "I had a couple of pints at the ward fundraiser and would like to post about it tonight. "
    question = (NORMAL_QUESTION + " " + draft * 25)[:2000]
    assert len(question.strip()) == 2000
    [payload] = payloads(say("bad-input-at-limit", question))
    assert payload["type"] == "answer"


def test_control_characters_do_not_stop_a_question_being_answered(servers, rasa_pid):
    [payload] = payloads(say("bad-input-control-answer", "Can I\x00 tweet\x07 after a drink?"))
    assert payload["type"] == "answer"


@pytest.mark.parametrize(
    "name, body, content_type, status, reason",
    [
        (
            "malformed-json",
            b'{"sender": "bad-input-malformed-json", "message": ',
            "application/json",
            400,
            "not valid JSON",
        ),
        ("array", b'["bad-input-array", "hello"]', "application/json", 400, "must be a JSON object"),
        ("no-body", b"", "application/json", 400, "must be a JSON object"),
        (
            "text-plain",
            b'{"sender": "bad-input-text-plain", "message": "hi"}',
            "text/plain",
            415,
            "application/json",
        ),
        (
            "form",
            b"sender=bad-input-form&message=hi",
            "application/x-www-form-urlencoded",
            415,
            "application/json",
        ),
        ("no-sender", b'{"message": "hello"}', "application/json", 400, '"sender" is missing'),
        (
            "empty-sender",
            b'{"sender": " ", "message": "hello"}',
            "application/json",
            400,
            '"sender" is missing',
        ),
        (
            "number-sender",
            b'{"sender": 7, "message": "hello"}',
            "application/json",
            400,
            '"sender" is missing',
        ),
        (
            "no-message",
            b'{"sender": "bad-input-no-message"}',
            "application/json",
            400,
            '"message" is missing',
        ),
        (
            "number-message",
            b'{"sender": "bad-input-number-message", "message": 7}',
            "application/json",
            400,
            '"message" is missing',
        ),
        (
            "bad-metadata",
            b'{"sender": "bad-input-bad-metadata", "message": "hi", "metadata": "x"}',
            "application/json",
            400,
            '"metadata"',
        ),
    ],
)
def test_malformed_requests_are_refused_with_a_reason(
    servers, rasa_pid, name, body, content_type, status, reason
):
    got, text = request(WEBHOOK, body, content_type)
    if text.startswith("{"):
        text = json.loads(text)["message"]
    assert got == status and reason in text
    answered_normally(f"bad-input-{name}")


def test_requests_without_a_sender_do_not_share_a_conversation(servers, rasa_pid):
    def shared_conversation():
        """What members have said in the conversation "default"."""
        status, body = request(f"{RASA}/conversations/default/tracker?token={servers.env['RASA_API_TOKEN']}")
        assert status == 200
        return [event["text"] for event in json.loads(body)["events"] if event["event"] == "user"]

    before = shared_conversation()
    assert request(WEBHOOK, json.dumps({"message": "I'm a Coventry councillor"}).encode())[0] == 400
    assert shared_conversation() == before
