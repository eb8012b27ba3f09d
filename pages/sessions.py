"""Training sessions: a trainer's presenter screen, the attendees who joined by its code, the
questions they asked with the answers they got, and the quiz rounds run for the room.

Everything is held in the page server's memory: a session lives until the trainer ends it (or
the server stops). Attendees are anonymous: each is a random token and a number ("Attendee 3").
What a session holds is bounded (bot/config.py): the sessions at once, the attendees and
questions per session, and the questions one attendee may ask. Changes are pushed to whoever
listens (the presenter screen, the attendees' phones) as small JSON events.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field

from bot import quiz as quizzes
from bot.answer import passage_payload
from bot.config import Settings

# Codes people read off a screen and type on a phone: no 0/O, 1/I/L.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
ENDED_KEPT = 200  # ended sessions remembered, so their codes get "ended" rather than "unknown"
EVENT_BACKLOG = 100  # events a slow listener may fall behind by before it is dropped


class SessionProblem(Exception):
    """Why a request about a session cannot be done; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


UNKNOWN = "There is no training session with the code {code}. Check the code on the screen and try again."
ENDED = "The training session {code} has ended. Thank you for taking part."


@dataclass
class Question:
    id: int
    text: str
    asker: str  # "room" (an attendee, anonymous) or "trainer"
    asked_at: float
    answered_at: float | None = None
    replies: list[dict] = field(default_factory=list)  # the bot's messages, as Rasa sent them

    def public(self) -> dict:
        return {"id": self.id, "text": self.text, "asker": self.asker, "replies": self.replies}

    @property
    def payload(self) -> dict | None:
        """The structured answer (answer, not covered, comparison...) among the replies."""
        return next((r["custom"] for r in self.replies if isinstance(r.get("custom"), dict)), None)


@dataclass
class Round:
    """One quiz question put to the room."""

    number: int
    scenario: quizzes.Scenario
    votes: dict[str, int] = field(default_factory=dict)  # attendee token -> option index
    revealed: bool = False

    def question(self) -> dict:
        s = self.scenario
        return {
            "number": self.number,
            "scenario": s.id,
            "question": s.question,
            "options": [{"letter": quizzes.LETTERS[i], "text": o} for i, o in enumerate(s.options)],
        }

    def tally(self) -> list[dict]:
        rows = quizzes.tally(self.scenario, self.votes)
        if not self.revealed:  # the right answer is not told before the reveal
            rows = [{k: v for k, v in row.items() if k != "right"} for row in rows]
        return rows

    def reveal(self) -> dict:
        s = self.scenario
        return {
            **self.question(),
            "tally": self.tally(),
            "votes": len(self.votes),
            "answer": quizzes.option_label(s, s.right),
            "right": s.right,
            "quotes": [passage_payload(p) for p in s.passages],
        }


@dataclass
class Attendee:
    token: str
    number: int
    asked: int = 0
    waiting: bool = False  # a question of theirs is being answered


class Session:
    def __init__(self, code: str, key: str, settings: Settings, content: quizzes.Quiz):
        self.code = code
        self.key = key  # the presenter's secret: only it may show, run the quiz and end
        self.settings = settings
        self.content = content
        self.started = time.time()
        self.ended: float | None = None
        self.attendees: dict[str, Attendee] = {}
        self.questions: list[Question] = []
        self.rounds: list[Round] = []
        self.quiz_order = quizzes.start(content, None, len(content.scenarios))["ids"]
        self.listeners: set[asyncio.Queue] = set()

    # ---------------------------------------------------------------- events

    def listen(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(EVENT_BACKLOG)
        self.listeners.add(queue)
        return queue

    def unlisten(self, queue: asyncio.Queue) -> None:
        self.listeners.discard(queue)

    def publish(self, event: dict, presenter_only: bool = False) -> None:
        for queue in list(self.listeners):
            if presenter_only and not getattr(queue, "presenter", False):
                continue
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:  # a listener that stopped reading is let go
                self.listeners.discard(queue)

    # ---------------------------------------------------------------- attendees and questions

    def check_key(self, key: str | None) -> None:
        if not key or not secrets.compare_digest(key, self.key):
            raise SessionProblem(403, "Only the presenter screen that started this session can do that.")

    def join(self) -> Attendee:
        if len(self.attendees) >= self.settings.max_attendees:
            raise SessionProblem(
                429, f"This session is full: it holds at most {self.settings.max_attendees} people."
            )
        attendee = Attendee(secrets.token_hex(16), len(self.attendees) + 1)
        self.attendees[attendee.token] = attendee
        self.publish({"type": "attendees", "count": len(self.attendees)}, presenter_only=True)
        return attendee

    def attendee(self, token: object) -> Attendee:
        attendee = self.attendees.get(token) if isinstance(token, str) else None
        if attendee is None:
            raise SessionProblem(403, "Join the session first: open the link on the screen again.")
        return attendee

    def may_ask(self, attendee: Attendee) -> None:
        each, total = self.settings.max_attendee_questions, self.settings.max_session_questions
        if attendee.waiting:
            raise SessionProblem(429, "Please wait for the answer to your last question.")
        if attendee.asked >= each:
            raise SessionProblem(
                429, f"You have asked {each} questions, the most one person can ask in a session. Thank you!"
            )
        if len(self.questions) >= total:
            raise SessionProblem(
                429, f"This session has had {total} questions, the most it can take. Please ask the trainer."
            )

    def add_question(self, text: str, asker: str, replies: list[dict], asked_at: float) -> Question:
        question = Question(len(self.questions) + 1, text, asker, asked_at, time.time(), replies)
        self.questions.append(question)
        self.publish({"type": "question", "question": question.public()}, presenter_only=True)
        return question

    # ---------------------------------------------------------------- the room's quiz

    @property
    def round(self) -> Round | None:
        return self.rounds[-1] if self.rounds else None

    def next_round(self) -> Round:
        if self.round and not self.round.revealed:
            raise SessionProblem(409, "Show the answer to the current quiz question first.")
        scenario_id = self.quiz_order[len(self.rounds) % len(self.quiz_order)]
        current = Round(len(self.rounds) + 1, self.content.by_id(scenario_id))
        self.rounds.append(current)
        self.publish({"type": "round", "round": current.question()})
        return current

    def vote(self, attendee: Attendee, scenario_id: object, option: object) -> None:
        current = self.round
        if current is None or current.revealed or scenario_id != current.scenario.id:
            raise SessionProblem(409, "That quiz question is closed.")
        if not isinstance(option, int) or not 0 <= option < quizzes.OPTIONS:
            raise SessionProblem(400, "Choose A, B or C.")
        current.votes[attendee.token] = option
        self.publish(
            {
                "type": "tally",
                "number": current.number,
                "votes": len(current.votes),
                "tally": current.tally(),
            },
            presenter_only=True,
        )

    def reveal(self) -> Round:
        current = self.round
        if current is None:
            raise SessionProblem(409, "No quiz question has been asked yet.")
        current.revealed = True
        self.publish({"type": "reveal", "round": current.reveal()})
        return current

    # ---------------------------------------------------------------- end

    def end(self) -> None:
        if self.ended is None:
            self.ended = time.time()
            self.publish({"type": "ended", "message": ENDED.format(code=self.code)})

    def state(self) -> dict:
        """Everything the presenter screen shows, for a presenter that (re)connects."""
        return {
            "code": self.code,
            "attendees": len(self.attendees),
            "questions": [q.public() for q in self.questions if q.asker == "room"],
            "round": (
                self.round.reveal()
                if self.round.revealed
                else {**self.round.question(), "tally": self.round.tally(), "votes": len(self.round.votes)}
            )
            if self.round
            else None,
            "ended": self.ended is not None,
        }


class Sessions:
    """The sessions of this page server."""

    def __init__(self, settings: Settings, content: quizzes.Quiz):
        self.settings = settings
        self.content = content
        self.live: dict[str, Session] = {}
        self.ended: dict[str, Session] = {}

    def start(self) -> Session:
        if len(self.live) >= self.settings.max_training_sessions:
            raise SessionProblem(
                429,
                f"{self.settings.max_training_sessions} training sessions are running, "
                "the most this server holds. End one first.",
            )
        while True:
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            if code not in self.live and code not in self.ended:
                break
        session = Session(code, secrets.token_urlsafe(24), self.settings, self.content)
        self.live[code] = session
        return session

    def find(self, code: str, ended_too: bool = False) -> Session:
        code = (code or "").strip().upper()
        if code in self.live:
            return self.live[code]
        if code in self.ended:
            if ended_too:
                return self.ended[code]
            raise SessionProblem(410, ENDED.format(code=code))
        shown = code if code.isalnum() and len(code) <= 12 else "you typed"
        raise SessionProblem(404, UNKNOWN.format(code=shown))

    def end(self, session: Session) -> None:
        session.end()
        self.live.pop(session.code, None)
        self.ended[session.code] = session
        while len(self.ended) > ENDED_KEPT:
            self.ended.pop(next(iter(self.ended)))
