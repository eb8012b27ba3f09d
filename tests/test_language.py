"""Telling English messages from others (bot/language.py), on every English question the
project has and on questions in other languages."""

from pathlib import Path

import pytest
import yaml
from rasa.shared.nlu.training_data.loading import load_data

from bot.language import WORD_LIST, English

ROOT = Path(__file__).resolve().parent.parent
FOREIGN = [
    "A gaf i drydar ar ôl yfed?",  # Welsh
    "Ydw i'n cael postio ar Facebook am gais cynllunio?",  # Welsh
    "Puis-je publier sur Facebook après avoir bu ?",
    "¿Puedo publicar en Facebook sobre una solicitud de planificación?",
    "Kann ich auf Twitter über Planungsanträge schreiben?",
    "Posso pubblicare su Facebook dopo aver bevuto?",
    "Czy mogę pisać na Facebooku o wnioskach planistycznych?",
    "Mag ik op Facebook posten over een bouwaanvraag?",
    "هل يمكنني النشر على فيسبوك بعد شرب الكحول؟",
    "我可以在脸书上发布关于规划申请的内容吗？",
]


@pytest.fixture(scope="module")
def english():
    assert WORD_LIST.exists(), "the wbritish package is missing (make setup installs it)"
    return English.load()


def english_questions():
    questions = []
    for name in ("questions.yml", "heldout.yml"):
        data = yaml.safe_load((ROOT / "tests" / "data" / name).read_text())
        questions += [
            item["q"] for key in data for item in data[key] if isinstance(item, dict) and "q" in item
        ]
    questions += [example.get("text") for example in load_data(str(ROOT / "data" / "nlu")).training_examples]
    return questions


def test_every_english_question_and_training_example_counts_as_english(english):
    questions = english_questions()
    assert len(questions) > 500
    assert [q for q in questions if not english.is_english(q)] == []


@pytest.mark.parametrize("question", FOREIGN)
def test_questions_in_other_languages_do_not(english, question):
    assert not english.is_english(question)


def test_short_messages_in_latin_letters_are_not_judged(english):
    for message in ("thx", "diolch", "merci beaucoup", "Cambs cllr", "👍"):
        assert english.is_english(message)
