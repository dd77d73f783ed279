"""Translations and locale-aware formatting, with the current language held in a ContextVar."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import NumberPattern, format_decimal, parse_pattern
from babel.support import Translations

from bot.core.resources import data_dir

LANGUAGES: tuple[str, ...] = ("fr", "en")
DOMAIN = "messages"
# The CLDR locale each language formats dates, times and numbers with. English is British
# throughout (spelling, "26 November", "18:30"): Babel's bare "en" is US English.
FORMAT_LOCALES: dict[str, str] = {"fr": "fr_FR", "en": "en_GB"}

_current: ContextVar[str] = ContextVar("agora_language", default="fr")


def compile_catalog(po_path: Path) -> bytes:
    """Compile a .po file to .mo bytes (what `pybabel compile` would write)."""
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=po_path.parent.parent.name)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


@cache
def translations(language: str) -> Translations:
    """The catalog of `language`: its .mo when up to date, else its .po compiled now."""
    folder = data_dir("locales") / language / "LC_MESSAGES"
    po_path, mo_path = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo_path.exists() and (
        not po_path.exists() or mo_path.stat().st_mtime >= po_path.stat().st_mtime
    ):
        data = mo_path.read_bytes()
    else:
        data = compile_catalog(po_path)
    return Translations(io.BytesIO(data), domain=DOMAIN)


def normalize_language(code: str | None) -> str | None:
    """Map a Telegram language_code ("fr-CA", "en") to a supported language, or None."""
    if not code:
        return None
    base = code.replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None


def current_language() -> str:
    return _current.get()


def current_locale() -> str:
    """The locale the current language formats with ("en_GB" for English)."""
    language = _current.get()
    return FORMAT_LOCALES.get(language, language)


def set_language(language: str) -> None:
    """Make `language` current for the rest of this task (one update, one job)."""
    _current.set(language)


@contextmanager
def using_language(language: str) -> Iterator[None]:
    """Make `language` current inside the block only."""
    token = _current.set(language)
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    return translations(_current.get()).ugettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    return translations(_current.get()).ungettext(singular, plural, count)


_ = gettext


def format_number(value: int | float) -> str:
    """A number with the current locale's grouping ("1 234" in French, "1,234" in English)."""
    return str(format_decimal(value, locale=current_locale()))


@cache
def _percent_pattern(language: str, decimals: int) -> NumberPattern:
    pattern = parse_pattern(Locale.parse(language).percent_formats[None].pattern)
    # Always as many decimals: 37,9 % and 40,0 % line up in a list.
    pattern.frac_prec = (decimals, decimals)
    return pattern


def format_share(share: float, decimals: int = 1) -> str:
    """A share in [0, 1] as a percentage with one decimal (or `decimals`), locale spacing kept
    ("37,9 %")."""
    locale = current_locale()
    return str(_percent_pattern(locale, decimals).apply(share, Locale.parse(locale)))


def format_long_date(day: date) -> str:
    """ "jeudi 26 novembre 2026" / "Thursday, 26 November 2026"."""
    return str(format_date(day, format="full", locale=current_locale()))


def format_day_time(moment: datetime) -> str:
    """ "jeudi 26 novembre à 18:30" / "Thursday, 26 November at 18:30", in the moment's own
    time zone: the locale's day-and-month pattern, with the weekday in full."""
    locale = Locale.parse(current_locale())
    # The locale's full date without its year ("EEEE d MMMM y" → "EEEE d MMMM"): the full
    # pattern exists in every CLDR version Babel ships (the "MMMMEd" skeleton does not).
    pattern = re.sub(r",?\s*y+", "", locale.date_formats["full"].pattern).strip()
    return gettext("{date} at {time}").format(
        date=format_date(moment, pattern, locale=locale),
        time=format_time(moment, format="short", locale=locale),
    )
