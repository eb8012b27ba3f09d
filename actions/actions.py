"""Rasa custom actions: read the tracker, ask `bot`, send the messages. No logic of their own."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot import search
from bot.answer import answer

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def searcher() -> search.Searcher:
    """The passage index (rebuilt first if stale or damaged) and vocabulary, loaded once."""
    return search.load()


# Load at start-up, so the action server is ready only once it can answer at full speed.
searcher()


class ActionAnswerQuestion(Action):
    def name(self) -> str:
        return "action_answer_question"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        question = tracker.latest_message.get("text") or ""
        result = answer(searcher(), question)
        for text in result.messages():
            dispatcher.utter_message(text=text)
        dispatcher.utter_message(json_message=result.payload())
        return []
