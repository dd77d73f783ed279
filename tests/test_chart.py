"""The digest's chart image: a valid PNG within Telegram's photo limits, whatever the results."""

from __future__ import annotations

import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.chart import ChartLabels, ChartQuestion, render_chart

NNBSP = "\u202f"


def share(value: float) -> str:
    return f"{value * 100:.1f}".replace(".", ",") + NNBSP + "%"


LABELS = ChartLabels(
    title="Résultats de ce groupe — jeudi 26 novembre 2026",
    no_votes="Pas encore de vote",
    voters=lambda n: f"{n}\u00a0votant" + ("s" if n > 1 else ""),
    share=share,
)

# French typography: typographic apostrophes.
OPTIONS = [
    option.replace("'", "\u2019")
    for option in [
        "Oui, c'est son rôle statutaire",
        "Oui, mais la manière était maladroite",
        "Non, il fallait consulter Microsoft d'abord",
        "Non, la décision était illégitime",
        "Je ne sais pas",
        "Cela dépend de l'entreprise",
        "Seulement avec un contrôle externe",
        "Plutôt non",
        "Pas du tout",
        "Ni oui ni non",
        "Sans opinion",
        "Autre raison",
    ]
]


def question(options: int, voters: int = 29, text: str = "") -> ChartQuestion:
    votes = [(voters * (index + 3)) // (options * 4) for index in range(options)]
    return ChartQuestion(
        text=text or "Le conseil d\u2019administration a-t-il eu raison ?",
        options=OPTIONS[:options],
        votes=votes,
        voters=voters,
    )


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, after checking the signature and the chunk's CRC."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", png[8:16])
    assert (length, kind) == (13, b"IHDR")
    assert struct.unpack(">I", png[29:33])[0] == zlib.crc32(png[12:29])
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def assert_telegram_photo(png: bytes) -> tuple[int, int]:
    width, height = png_size(png)
    assert width + height <= 10000
    assert max(width, height) / min(width, height) <= 20
    assert png.endswith(b"IEND\xaeB`\x82")
    return width, height


def test_a_digest_chart_is_a_png_within_telegram_limits() -> None:
    png = render_chart([question(n) for n in (5, 6, 7, 8, 9, 5)], LABELS)
    width, _ = assert_telegram_photo(png)
    assert 900 <= width <= 1400


def test_more_options_make_a_taller_chart() -> None:
    _, short = png_size(render_chart([question(3) for _ in range(6)], LABELS))
    _, tall = png_size(render_chart([question(12) for _ in range(6)], LABELS))
    assert tall > short * 2


def test_questions_without_voters_render() -> None:
    png = render_chart([question(5, voters=0) for _ in range(6)], LABELS)
    assert_telegram_photo(png)


def test_multiple_answer_shares_over_100_percent_render() -> None:
    many = ChartQuestion(
        text="Quelles leçons retenir ? (plusieurs réponses possibles)",
        options=OPTIONS[:6],
        votes=[29, 27, 20, 15, 9, 1],
        voters=29,
    )
    assert_telegram_photo(render_chart([many, question(5)], LABELS))


def test_long_french_text_renders() -> None:
    label = f"«{NNBSP}Une option très longue{NNBSP}», avec des accents{NNBSP}: éèêëàâîïôöûüç, qui"
    label = (label + " continue encore" * 5)[:100]
    assert len(label) == 100
    text = f"Faut-il que le conseil «{NNBSP}rende des comptes{NNBSP}» aux salariés{NNBSP}? " * 5
    text = text[:300]
    assert len(text) == 300
    long = ChartQuestion(text=text, options=[label] * 12, votes=[2] * 12, voters=24)
    png = render_chart([long] * 6, LABELS)
    width, _ = assert_telegram_photo(png)
    assert 900 <= width <= 1400


@pytest.mark.filterwarnings("error")
def test_characters_the_font_lacks_do_not_warn() -> None:
    odd = ChartQuestion(
        text="Et les émojis 👍🏽 ? Les caractères 中文, les tabulations\tet les $\\math$ ?",
        options=["👍 Oui", "👎 Non", "🤷\u200d♀️", "\x00\x1b", "$5 ou 10 $", "a_b^c"],
        votes=[3, 2, 1, 0, 0, 1],
        voters=6,
    )
    assert_telegram_photo(render_chart([odd], LABELS))


def test_edge_cases_render() -> None:
    assert_telegram_photo(render_chart([], LABELS))
    blank = ChartQuestion(text="", options=["", " "], votes=[0, 0], voters=0)
    assert_telegram_photo(render_chart([blank], LABELS))
    mismatched = ChartQuestion(text="?", options=["a", "b"], votes=[1], voters=1)
    with pytest.raises(ValueError, match="options"):
        render_chart([mismatched], LABELS)


@pytest.mark.parametrize("count", [12, 40])
def test_a_huge_chart_is_scaled_down_to_telegram_limits(count: int) -> None:
    long = "mot " * 25
    questions = [ChartQuestion(long * 3, [long] * 12, [1] * 12, 12) for _ in range(count)]
    assert_telegram_photo(render_chart(questions, LABELS))


def test_concurrent_renders_are_identical() -> None:
    questions = [question(n) for n in (5, 6, 7, 8, 9, 5)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        pngs = list(pool.map(lambda _: render_chart(questions, LABELS), range(4)))
    for png in pngs:
        assert_telegram_photo(png)
    assert len(set(pngs)) == 1
