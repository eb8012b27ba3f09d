"""Never silent: an apology when a custom action sends nothing.

If the action server is down, or an action raises, Rasa logs the error and carries on with no
reply at all. This policy notices that a listed action ran for a member's message and no
message reached the member, and predicts `utter_action_failed` instead of waiting for the next
message; after the apology it predicts listening. It outranks every other policy, but only in
that situation: it predicts nothing otherwise, nor for conversations replayed from stories
(their messages come through no channel).
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

# Above MemoizationPolicy's 1.1 and RulePolicy's 1.0, so this prediction wins when it is made.
CERTAIN = 1.2


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False)
class ActionFailurePolicy(Policy):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "priority": 7,  # above RulePolicy's 6
            "apology": "utter_action_failed",
            "actions": [],  # the custom actions that always reply
        }

    def train(self, training_trackers, domain: Domain, **kwargs: Any) -> Resource:
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        action = self.next_action(tracker)
        if action:
            probabilities[domain.index_for_action(action)] = CERTAIN
        return self._prediction(probabilities)

    def next_action(self, tracker: DialogueStateTracker) -> str | None:
        """The apology after a listed action that sent nothing; listening after the apology."""
        since_user = []
        for event in reversed(tracker.events):
            if isinstance(event, UserUttered):
                if not event.input_channel:  # a story, not a member
                    return None
                break
            since_user.append(event)
        else:
            return None
        actions = [e.action_name for e in since_user if isinstance(e, ActionExecuted)]
        if not actions:
            return None
        if actions[0] == self.config["apology"]:
            return ACTION_LISTEN_NAME
        replied = any(isinstance(e, BotUttered) for e in since_user)
        if actions[0] in self.config["actions"] and not replied:
            return self.config["apology"]
        return None
