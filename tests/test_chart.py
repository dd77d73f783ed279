"""The digest's chart image: a valid PNG within Telegram's photo limits, whatever the results;
its memory given back once drawn."""

from __future__ import annotations

import platform
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.digests.drawing import render
from bot.digests.drawing.lettering import advance, wrap
from bot.digests.drawing.panels import ChartLabels, ChartQuestion
from bot.digests.drawing.render import render_chart

pytestmark = pytest.mark.floors

NNBSP = "\u202f"


def share(value: float, decimals: int) -> str:
    return f"{value * 100:.{decimals}f}".replace(".", ",") + NNBSP + "%"


LABELS = ChartLabels(
    title="Crise à la tête d\u2019OpenAI\u00a0: le renvoi de Sam Altman sème le chaos",
    subtitle="Résultats de ce groupe — jeudi 26 novembre 2026",
    no_votes="Pas encore de réponse",
    voters=lambda n: f"{n}\u00a0votant" + ("s" if n > 1 else ""),
    share=share,
    count=str,
    multiple="plusieurs réponses possibles",
    note="Traits noirs\u00a0: la marge d\u2019erreur de chaque part.",
    trend_note="Courbe\u00a0: part de l\u2019option la plus choisie aujourd\u2019hui.",
    trend_span="14 jours",
)
MAX_HEIGHT = 2560


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
    assert height <= MAX_HEIGHT  # Telegram would scale a taller photo down
    assert png.endswith(b"IEND\xaeB`\x82")
    return width, height


def assert_album(pages: list[bytes]) -> list[tuple[int, int]]:
    """Pages Telegram shows as they are: one photo, or an album of at most ten."""
    assert 1 <= len(pages) <= 10
    return [assert_telegram_photo(png) for png in pages]


def heights(pages: list[bytes]) -> list[int]:
    return [height for _, height in assert_album(pages)]


def test_the_article_s_six_questions_fit_in_an_album_of_photos_for_a_phone() -> None:
    pages = render_chart([question(n) for n in (5, 5, 9, 5, 4, 8)], LABELS)
    sizes = assert_album(pages)
    assert len(pages) == 2
    assert {width for width, _ in sizes} == {1080}
    assert all(height > 1200 for _, height in sizes)  # split where it fills the pages


def test_one_page_when_it_fits() -> None:
    [png] = render_chart([question(5), question(4)], LABELS)
    assert_telegram_photo(png)


def test_more_options_make_a_taller_chart() -> None:
    [short] = heights(render_chart([question(3)], LABELS))
    [tall] = heights(render_chart([question(12)], LABELS))
    assert tall > short + 9 * 60


def test_an_unanswered_question_takes_one_line() -> None:
    [with_votes] = heights(render_chart([question(5)], LABELS))
    [without] = heights(render_chart([question(5, voters=0)], LABELS))
    [nothing] = heights(render_chart([], LABELS))
    assert without - nothing < 200 < with_votes - nothing


def test_the_questions_are_split_between_pages_never_within_one() -> None:
    twelve = [question(12, text=f"Question {n}\u00a0?") for n in range(6)]
    pages = render_chart(twelve, LABELS)
    assert len(pages) == 6  # a twelve-option question fills more than half a page
    first, *others = heights(pages)
    assert len(set(others)) == 1
    assert first > others[0]  # the legend is on the first page


def test_multiple_answer_shares_over_100_percent_render() -> None:
    many = ChartQuestion(
        text="Quelles leçons retenir\u00a0?",
        options=OPTIONS[:6],
        votes=[29, 27, 20, 15, 9, 1],
        voters=29,
        multiple=True,
        neutral=5,
        leader=0,
    )
    assert_album(render_chart([many, question(5)], LABELS))


def test_long_french_text_renders() -> None:
    label = f"«{NNBSP}Une option très longue{NNBSP}», avec des accents{NNBSP}: éèêëàâîïôöûüç, qui"
    label = (label + " continue encore" * 5)[:100]
    assert len(label) == 100
    text = f"Faut-il que le conseil «{NNBSP}rende des comptes{NNBSP}» aux salariés{NNBSP}? " * 5
    text = text[:300]
    assert len(text) == 300
    long = ChartQuestion(text=text, options=[label] * 12, votes=[2] * 12, voters=24)
    assert_album(render_chart([long] * 6, LABELS))


def test_lines_are_wrapped_by_measured_width_and_balanced() -> None:
    width = 600
    lines = wrap("Impossible à juger sans plus d\u2019informations, vraiment", 23, False, width)
    assert len(lines) == 2
    assert all(advance(line, 23, False) <= width for line in lines)
    # Balanced: the last line is not a lone word.
    assert len(lines[-1].split()) > 1
    # Narrow letters fit more characters than wide ones on a line of the same width.
    assert len(wrap("il " * 40, 23, False, width)) < len(wrap("MW " * 40, 23, False, width))
    # No-break spaces hold: « 37,9 % » stays whole.
    assert all(line.count("«") == line.count("»") for line in wrap(
        f"un «{NNBSP}mot{NNBSP}» puis «{NNBSP}autre{NNBSP}» et «{NNBSP}encore{NNBSP}»",
        23, False, 200,
    ))


@pytest.mark.filterwarnings("error")
def test_characters_the_font_lacks_do_not_warn() -> None:
    odd = ChartQuestion(
        text="Et les émojis 👍🏽 ? Les caractères 中文, les tabulations\tet les $\\math$ ?",
        options=["👍 Oui", "👎 Non", "🤷\u200d♀️", "\x00\x1b", "$5 ou 10 $", "a_b^c"],
        votes=[3, 2, 1, 0, 0, 1],
        voters=6,
        trend=[[-3, 0.5], [0, 0.5]],
    )
    assert_album(render_chart([odd], LABELS))


def test_edge_cases_render() -> None:
    assert_album(render_chart([], LABELS))
    blank = ChartQuestion(text="", options=["", " "], votes=[0, 0], voters=0)
    assert_album(render_chart([blank], LABELS))
    odd = ChartQuestion(text="?", options=["a", "b"], votes=[5, -1], voters=3, trend=[[0, 1.0]])
    assert_album(render_chart([odd], LABELS))
    mismatched = ChartQuestion(text="?", options=["a", "b"], votes=[1], voters=1)
    with pytest.raises(ValueError, match="options"):
        render_chart([mismatched], LABELS)


@pytest.mark.parametrize("count", [12, 40, 200])
def test_a_huge_chart_stays_within_an_album_of_telegram_photos(count: int) -> None:
    long = "mot " * 25
    questions = [ChartQuestion(long * 3, [long] * 12, [1] * 12, 12) for _ in range(count)]
    assert_album(render_chart(questions, LABELS))


def test_concurrent_renders_are_identical() -> None:
    questions = [question(n) for n in (5, 6, 7, 8, 9, 5)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        albums = list(pool.map(lambda _: render_chart(questions, LABELS), range(4)))
    for pages in albums:
        assert_album(pages)
    assert len({tuple(pages) for pages in albums}) == 1


def test_drawing_gives_its_memory_back_where_glibc_allows() -> None:
    """The canvases' memory goes back to the system after a chart (malloc_trim, glibc)."""
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("malloc_trim is glibc's")
    trim = render._malloc_trim()
    assert trim is not None
    assert trim(0) in (0, 1)  # 1: memory was released, 0: there was none to release
