"""Whether a message is written in English, judged by its words.

The guidance is in English. A question in another language shares little with it but a brand
name ("Facebook"), on which the search would otherwise quote something unrelated, so such a
question is told that only English can be read instead. A message counts as English when at
least half of its words are English words: those of the British English word list (Debian's
`wbritish`, /usr/share/dict/british-english), of the guidance itself and of
`corpus/vocabulary.yml` ("fb", "cllr"). Messages of fewer than three words are not judged
("thx", "Cambs") unless written in another alphabet alone. A button's payload ("/full_section")
is not a member's words at all, and is not judged.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path

from bot.config import Settings, settings

log = logging.getLogger(__name__)

WORD_LIST = Path("/usr/share/dict/british-english")
MIN_WORDS = 3
MIN_ENGLISH_SHARE = 0.5
# Words in any alphabet, with inner apostrophes ("I'm", "councillor's").
WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")


def is_button(message: str) -> bool:
    """Whether a message is a button's payload ("/full_section", "/quiz_answer{...}") rather than
    words a member typed: it is neither judged for its language nor sent ahead to be embedded."""
    return message.startswith("/")


def message_words(text: str) -> list[str]:
    return WORD.findall(text.lower().replace("’", "'"))


class English:
    def __init__(self, known: set[str]):
        self.known = known

    @classmethod
    def load(cls, config: Settings | None = None, word_list: Path = WORD_LIST) -> English:
        from bot.search import VOCABULARY_FILE, Vocabulary

        config = config or settings()
        if not word_list.exists():
            log.warning("%s is missing (Debian package wbritish): every message counts as English", word_list)
            return cls(set())
        known = set(message_words(word_list.read_text(encoding="utf-8", errors="replace")))
        for source in sorted(config.corpus_dir.glob("*.txt")):
            known.update(message_words(source.read_text(encoding="utf-8", errors="replace")))
        known.update(Vocabulary.load(config.corpus_dir / VOCABULARY_FILE).words)
        return cls(known)

    def is_english(self, text: str) -> bool:
        found = message_words(text)
        if not self.known:
            return True
        if found and not any(char.isascii() for word in found for char in word):
            return False  # written in another alphabet alone (and perhaps without spaces)
        if len(found) < MIN_WORDS:
            return True
        english = sum(word in self.known or word.split("'")[0] in self.known for word in found)
        return english >= MIN_ENGLISH_SHARE * len(found)


@lru_cache(maxsize=1)
def english() -> English:
    return English.load()
