import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest

from bot import index
from bot.config import settings


@pytest.fixture(scope="session")
def encoder():
    """The embedding model, loaded once for the whole run."""
    return index.Encoder(settings())


@pytest.fixture(scope="session")
def project_index(encoder):
    """The project's own index (built by `make test` before pytest runs, or here if needed)."""
    return index.load(encoder=encoder)
