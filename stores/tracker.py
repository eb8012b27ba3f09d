"""Conversations in a database shared by every Rasa server: Rasa's SQL tracker store with no
in-memory fallback (stores/unavailable.py), and pooled connections checked before use, so the
first message after a database restart is answered rather than failing on a dead connection.

Rasa's SQL tracker store appends to the database the events of a conversation beyond those
already stored. That is only right while one server at a time handles a conversation, which the
lock store (stores/lock.py) ensures.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs

from stores.unavailable import WithoutFallback


class StrictSQLTrackerStore(WithoutFallback, SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        # The pool's size follows SQL_POOL_SIZE and SQL_MAX_OVERFLOW, as in Rasa.
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.sessionmaker(bind=self.engine)
