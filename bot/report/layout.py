"""The frame of every report page: the document with its stylesheet, the language links, the
list of articles and the pages that say no (no token, a wrong one, an unknown article).

Every text from users or articles goes through `text` (HTML-escaped, quotes too); the texts
Agora writes come from the catalogs, in the page's language."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape
from urllib.parse import quote, urlencode

from bot.core.content import Article
from bot.core.formatting import voters_text
from bot.core.i18n import LANGUAGES, _, current_language, format_long_date
from bot.report.style import CSS

LANGUAGE_NAMES = {"fr": "Français", "en": "English"}


def text(value: str) -> str:
    """A text from a user or an article, safe anywhere in the page (element or attribute)."""
    return escape(value, quote=True)


def href(path: str, **query: str) -> str:
    """A link within the report (the query's empty values left out), escaped for an attribute."""
    given = {name: value for name, value in query.items() if value}
    return text(path + ("?" + urlencode(given) if given else ""))


def article_path(article_id: str) -> str:
    return "/report/" + quote(article_id, safe="")


def document(title: str, body: str) -> str:
    """A whole page in the current language."""
    return (
        f'<!doctype html><html lang="{current_language()}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        '<meta name="robots" content="noindex,nofollow">'
        '<link rel="icon" href="data:,">'  # no request for /favicon.ico
        f"<title>{text(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def language_links(path: str, **query: str) -> str:
    """Links to the same page in each language, the current one marked."""
    links = []
    for language in LANGUAGES:
        current = ' aria-current="page"' if language == current_language() else ""
        links.append(
            f'<a href="{href(path, **query, lang=language)}" hreflang="{language}" '
            f'lang="{language}"{current}>{LANGUAGE_NAMES[language]}</a>'
        )
    label = text(_("Language"))
    return f'<nav aria-label="{label}">{"".join(links)}</nav>'


def heading(anchor: str, label: str) -> str:
    """A section's heading, with an anchor to link to."""
    return f'<h2 id="{anchor}">{text(label)}</h2>'


def header(title: str, path: str, **query: str) -> str:
    return f"<header><h1>{text(title)}</h1>{language_links(path, **query)}</header>"


def index_page(articles: Iterable[Article], voters: Mapping[str, int]) -> str:
    """/report: every article, newest first, with its voters in all chats."""
    language = current_language()
    items = []
    for article in articles:
        count = voters.get(article.id, 0)
        retired = " · " + text(_("retired")) if article.retired else ""
        items.append(
            f'<li><a href="{href(article_path(article.id), lang=language)}">'
            f"{text(article.title[language])}</a><br><small>"
            f"{text(format_long_date(article.source_date))} · {text(voters_text(count))}"
            f"{retired}</small></li>"
        )
    title = _("Agora report")
    body = header(title, "/report") + (
        '<section class="card">' + heading("articles", _("Articles"))
        + f'<ul>{"".join(items)}</ul></section>'
    )
    return document(title, body)


def refusal_page(status: int) -> str:
    """What a refused reader sees: why, and what would open the page."""
    if status == 401:
        reason = _("This report needs its token: open the link you were given (…?token=…).")
    elif status == 403:
        reason = _("This token does not open the report.")
    elif status == 404:
        reason = _("There is no such article.")
    else:
        reason = _("Only reading is possible here.")
    title = _("Agora report")
    return document(title, f"<h1>{text(title)}</h1><p>{text(reason)}</p>")
