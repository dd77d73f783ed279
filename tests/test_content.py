"""The article files: the seed article's facts and questions, and validation messages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.core.content import ContentError, parse_article
from bot.core.library import load_library

pytestmark = pytest.mark.floors

ARTICLES = Path(__file__).resolve().parent.parent / "articles"
SEED = ARTICLES / "sources" / "000_2177f8e781cf5302.txt"
ARTICLE = ARTICLES / "openai-board-2023-11.toml"


def plain(text: str) -> str:
    """The text as the source types it: plain spaces and straight apostrophes."""
    return text.replace("\u202f", " ").replace("\u00a0", " ").replace("\u2019", "'")


def test_the_seed_article_is_the_default() -> None:
    library = load_library()
    assert library.newest.id == "openai-board-2023-11"


def test_french_questions_are_the_articles_own_words() -> None:
    """The article's closing questions, word for word, but for the second half of question 4:
    the source asks whether Altman "will really stay at Microsoft", which it never says he
    joined; the question asks instead what the source reports (an exodus of OpenAI's talent to
    Microsoft to keep working with him)."""
    source = SEED.read_text(encoding="utf-8")
    article = load_library().newest
    for question in article.questions:
        text = plain(question.text["fr"])
        if question.key == "microsoft":
            first, second = text.split("? ", 1)
            assert first + "?" in source
            assert "Altman va-t-il réellement rester chez Microsoft ?" in source
            assert "exode des talents d'OpenAI vers Microsoft" in source
            assert "continuer à travailler avec ce dernier" in source
            assert second == (
                "Les talents d'OpenAI vont-ils partir chez Microsoft pour continuer à travailler "
                "avec Altman ?"
            )
        else:
            assert text in source
    assert source.rstrip().endswith(plain(article.questions[-1].text["fr"]))


def test_questions_options_and_limits() -> None:
    article = load_library().newest
    assert len(article.questions) == 6
    assert article.questions[2].key == "risks"
    assert article.questions[2].multiple
    for question in article.questions:
        assert question.options["fr"][-1] == "Sans opinion"
        assert question.options["en"][-1] == "No opinion"
        assert len(question.options["fr"]) == len(question.options["en"])
        assert 2 <= len(question.options["fr"]) <= 12
        for language in ("fr", "en"):
            assert len(question.text[language]) <= 300
            assert all(len(option) <= 100 for option in question.options[language])


def test_summaries_carry_the_facts_and_fit_a_message() -> None:
    article = load_library().newest
    facts = {
        "fr": [
            "Sam Altman",
            "Greg Brockman",
            "Emmett Shear",
            "Mira Murati",
            "Sutskever",
            "20 novembre",
            "95\u00a0%",
            "723 sur 778",
            "Satya Nadella",
            "Microsoft",
            "deux options",
        ],
        "en": [
            "Sam Altman",
            "Greg Brockman",
            "Emmett Shear",
            "Mira Murati",
            "Sutskever",
            "20 November",
            "95%",
            "723 of 778",
            "Satya Nadella",
            "Microsoft",
            "both options",
        ],
    }
    for language, needles in facts.items():
        summary = article.summary[language]
        assert len(summary) < 4096
        for needle in needles:
            assert needle in summary, (language, needle)


def test_french_typography() -> None:
    article = load_library().newest
    french = [article.summary["fr"], article.title["fr"]] + [
        q.text["fr"] for q in article.questions
    ]
    for text in french:
        assert not re.search(r" [?!;:»%]", text), text
        assert not re.search(r"« ", text), text


BROKEN = [
    ("id = 'x'\n", "source_date: missing"),
    (
        ARTICLE.read_text(encoding="utf-8").replace("Sans opinion", "Bof", 1),
        "questions[1].options.fr: the neutral option 'Sans opinion' is missing",
    ),
    (
        ARTICLE.read_text(encoding="utf-8").replace(
            'text.en = "What is your view on the matter?"', 'text.en = ""'
        ),
        "questions[1].text.en: expected a non-empty string",
    ),
    (
        ARTICLE.read_text(encoding="utf-8").replace(
            "Justifié sur le fond, mais mal mené", "x" * 101
        ),
        "questions[2].options.fr[2]: 101 characters, at most 100 allowed",
    ),
    ("id = [", "not valid TOML"),
]


@pytest.mark.parametrize(("text", "message"), BROKEN)
def test_invalid_files_name_the_file_and_the_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        parse_article(path)
    assert str(caught.value).startswith("broken.toml: ")
    assert message in str(caught.value)
