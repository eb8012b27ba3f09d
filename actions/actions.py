"""Rasa custom actions: read the tracker, ask `bot`, send the messages. No logic of their own."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import quiz, search
from bot.answer import DEFAULT_CONTACTS, Reply, answer_in_context, compare, full_section, is_question, source
from bot.config import settings
from bot.corpus import Passage
from bot.feedback import FeedbackStore

log = logging.getLogger(__name__)

# Offered after every quoted answer; each payload is an intent of its own.
ANSWER_BUTTONS = [
    {"title": "Full section", "payload": "/full_section"},
    {"title": "Other councils", "payload": "/other_councils"},
    {"title": "Helpful", "payload": "/feedback_good"},
    {"title": "Not helpful", "payload": "/feedback_bad"},
]
ASK_OTHERS = "tell you what the other councils say"
SHOW_SECTION = "show you the whole section its answer comes from"
TELL_SOURCE = "tell you where its answer comes from"


@lru_cache(maxsize=1)
def searcher() -> search.Searcher:
    """The passage index (rebuilt first if stale or damaged) and vocabulary, loaded once."""
    return search.load()


@lru_cache(maxsize=1)
def feedback() -> FeedbackStore:
    return FeedbackStore(settings().feedback_db)


# Load at start-up, so the action server is ready only once it can answer at full speed.
searcher()


def member_council(tracker: Tracker) -> tuple[str | None, list[dict]]:
    """The member's council (slot, or else the widget's message metadata), and the event that
    remembers it when it came from the metadata."""
    council = tracker.get_slot("council")
    if council in searcher().councils():
        return council, []
    offered = str((tracker.latest_message.get("metadata") or {}).get("council") or "").lower()
    if offered in searcher().councils():
        return offered, [SlotSet("council", offered)]
    return None, []


def last_shown(tracker: Tracker) -> Passage | None:
    """The passage last quoted first, if any."""
    ids = tracker.get_slot("last_passages") or []
    return searcher().index.by_id(ids[0]) if ids else None


def nothing_to_follow_up(dispatcher: CollectingDispatcher, tracker: Tracker, then: str) -> list[dict]:
    """With nothing quoted yet, a message cannot be a follow-up: one the guidance answers ("Where
    does it say I shouldn't post after a drink?") is answered; otherwise the member is asked for
    a question first, and told what follows it (`then`)."""
    answered = answer_question(dispatcher, tracker, only_if_covered=True)
    if answered is not None:
        return answered
    dispatcher.utter_message(text=f"Ask me a question first, and then I can {then}.")
    return []


def send(dispatcher: CollectingDispatcher, reply: Reply, buttons: list[dict] | None = None) -> None:
    for i, text in enumerate(reply.messages):
        last = i == len(reply.messages) - 1
        dispatcher.utter_message(text=text, buttons=buttons if last and buttons else None)
    dispatcher.utter_message(json_message=reply.payload)


def send_follow_up(dispatcher: CollectingDispatcher, reply: Reply) -> list[dict]:
    """Sends a follow-up's reply and remembers what it quotes, for the next follow-up."""
    send(dispatcher, reply)
    return remember(None, reply.passages) if reply.passages else []


def remember(question: str | None, passages: list[Passage]) -> list[dict]:
    events = [SlotSet("last_passages", [p.id for p in passages])]
    if question is not None:
        events.insert(0, SlotSet("last_question", question))
    return events


def answer_question(dispatcher: CollectingDispatcher, tracker: Tracker, only_if_covered: bool = False):
    """Quotes the guidance on the latest message; says it is not covered (and records it), or,
    with `only_if_covered`, sends nothing and returns None."""
    question = tracker.latest_message.get("text") or ""
    council, events = member_council(tracker)
    result = answer_in_context(searcher(), question, tracker.get_slot("last_question"), council=council)
    if only_if_covered and not result.covered:
        return None
    reply = result.reply()
    send(dispatcher, reply, ANSWER_BUTTONS if result.covered else None)
    if not result.covered and question.strip():
        feedback().record(tracker.sender_id, "not_covered", question, [])
    return events + remember(result.question, reply.passages)


def answered_instead(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict] | None:
    """A message the NLU only guessed was setting the council or starting a quiz ("Who is the
    Cambridgeshire report from?") is answered from the guidance when the guidance covers it."""
    confidence = (tracker.latest_message.get("intent") or {}).get("confidence")
    if confidence is None or confidence >= settings().nlu_sure:
        return None
    return answer_question(dispatcher, tracker, only_if_covered=True)


class ActionAnswerQuestion(Action):
    def name(self) -> str:
        return "action_answer_question"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        return answer_question(dispatcher, tracker)


class ActionHelp(Action):
    """What the assistant can do; but a request for help that the guidance answers ("what do
    you know about libel?") is answered from it."""

    def name(self) -> str:
        return "action_help"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        answered = answer_question(dispatcher, tracker, only_if_covered=True)
        if answered is not None:
            return answered
        dispatcher.utter_message(response="utter_help")
        return []


class ActionSetCouncil(Action):
    def name(self) -> str:
        return "action_set_council"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        answered = answered_instead(dispatcher, tracker)
        if answered is not None:
            return answered
        councils = searcher().councils()
        text = tracker.latest_message.get("text") or ""
        said = next(tracker.get_latest_entity_values("council"), None)
        key = (said or "").lower()
        if key not in councils:
            key = searcher().named_council(text) or ""
        last_question = tracker.get_slot("last_question")
        if key in councils and last_question and is_question(text):
            # "What does Broxtowe say?" after an answer: that council's words on the last question.
            return send_follow_up(dispatcher, compare(searcher(), last_question, only=key))
        if key not in councils:
            names = ", ".join(c.name for c in councils.values())
            dispatcher.utter_message(text=f"I have guidance from {names}. Which is your council?")
            return []
        dispatcher.utter_message(
            text=f"Thank you. From now on I'll quote {councils[key].name}'s guidance first."
        )
        return [SlotSet("council", key)]


class ActionFullSection(Action):
    def name(self) -> str:
        return "action_full_section"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        shown = last_shown(tracker)
        if not shown:
            return nothing_to_follow_up(dispatcher, tracker, SHOW_SECTION)
        return send_follow_up(dispatcher, full_section(searcher().index.passages, shown))


class ActionOtherCouncils(Action):
    def name(self) -> str:
        return "action_other_councils"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        shown = last_shown(tracker)
        if not shown or not tracker.get_slot("last_question"):
            return nothing_to_follow_up(dispatcher, tracker, ASK_OTHERS)
        reply = compare(searcher(), tracker.get_slot("last_question"), exclude=shown.document.council.key)
        return send_follow_up(dispatcher, reply)


class ActionCompareCouncils(Action):
    def name(self) -> str:
        return "action_compare_councils"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        question = tracker.latest_message.get("text") or ""
        if searcher().named_council(question):  # about one council ("what does Broxtowe say about X?")
            return answer_question(dispatcher, tracker)
        reply = compare(searcher(), question)
        send(dispatcher, reply)
        return remember(question, reply.passages)


class ActionSource(Action):
    def name(self) -> str:
        return "action_source"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        shown = last_shown(tracker)
        if not shown:
            return nothing_to_follow_up(dispatcher, tracker, TELL_SOURCE)
        dispatcher.utter_message(text=source(shown))
        return []


class ActionFeedback(Action):
    def name(self) -> str:
        return "action_feedback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        helpful = (tracker.latest_message.get("intent") or {}).get("name") == "feedback_good"
        question = tracker.get_slot("last_question") or ""
        shown = tracker.get_slot("last_passages") or []
        feedback().record(tracker.sender_id, "helpful" if helpful else "not_helpful", question, shown)
        if helpful:
            dispatcher.utter_message(text="Thank you, that's noted.")
            return []
        council, _ = member_council(tracker)
        contacts = searcher().councils()[council].contacts if council else DEFAULT_CONTACTS
        dispatcher.utter_message(
            text=(
                "Sorry that didn't help. I've noted it so the guidance can be improved. You could "
                f"ask in other words, or ask {contacts}."
            )
        )
        return []


@lru_cache(maxsize=1)
def quiz_content() -> quiz.Quiz:
    """The quiz scenarios, checked against the passages of the index."""
    return quiz.load_for(searcher().index.passages, settings().corpus_dir)


quiz_content()


def send_messages(dispatcher: CollectingDispatcher, messages: list[dict]) -> None:
    for message in messages:
        if "custom" in message:
            dispatcher.utter_message(json_message=message["custom"])
        else:
            dispatcher.utter_message(text=message["text"], buttons=message.get("buttons"))


class ActionQuizStart(Action):
    def name(self) -> str:
        return "action_quiz_start"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        answered = answered_instead(dispatcher, tracker)
        if answered is not None:
            return answered
        council, events = member_council(tracker)
        state = quiz.start(quiz_content(), council, settings().quiz_length)
        dispatcher.utter_message(
            text=f"Here is a short quiz of {len(state['ids'])} questions. After each answer I quote "
            "the guidance that settles it. Say “stop quiz” to leave at any time."
        )
        send_messages(dispatcher, quiz.question(quiz_content(), state))
        return events + [SlotSet("quiz", state)]


class ActionQuizAnswer(Action):
    def name(self) -> str:
        return "action_quiz_answer"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        text = tracker.latest_message.get("text") or ""
        state, messages = quiz.answer(quiz_content(), tracker.get_slot("quiz"), text)
        send_messages(dispatcher, messages)
        return [SlotSet("quiz", state)]


class ActionQuizStop(Action):
    def name(self) -> str:
        return "action_quiz_stop"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        send_messages(dispatcher, quiz.stop(quiz_content(), tracker.get_slot("quiz")))
        return [SlotSet("quiz", None)]
