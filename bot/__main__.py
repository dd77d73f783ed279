"""Command line: `python -m bot` runs the bot, `python -m bot check` validates the content,
`python -m bot outbox` says what is waiting to be sent, `python -m bot new-article` starts an
article file from its text."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from bot.articles.scaffold import ScaffoldError, write_scaffold
from bot.core.content import TO_FILL, ContentError
from bot.core.i18n import LANGUAGES
from bot.core.library import packaged_articles, scan
from bot.core.settings import (
    ConfigError,
    StartupError,
    articles_dir_setting,
    describe_settings,
    load_settings,
)

EXIT_CONFIG = 2


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Agora: a Telegram bot that lets a group discuss a news article through "
        "polls in French or English. Runs with long polling.",
        epilog="Settings, read from the environment or a .env file in the current folder:\n"
        + describe_settings(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("run", help="run the bot (the default)")
    commands.add_parser(
        "check", help="check the articles (packaged and ARTICLES_DIR's) and settings"
    )
    commands.add_parser("outbox", help="show what waits to be sent")
    new = commands.add_parser(
        "new-article",
        help="start an article file in ARTICLES_DIR from the article's plain text",
        description="Write ID.toml into ARTICLES_DIR from an article's plain text, with its "
        f"closing questions and every field to write marked {TO_FILL!r} (`check` refuses the "
        "file until they are filled); the text is kept beside it in sources/ID.txt. Never "
        "overwrites a file.",
    )
    new.add_argument("source", type=Path, help="the article's text (UTF-8)")
    new.add_argument(
        "--id", dest="article_id", help="the article's id (default: from the file name)"
    )
    new.add_argument(
        "--date", type=date.fromisoformat, help="the article's date, YYYY-MM-DD (default: today)"
    )
    new.add_argument(
        "--language", choices=LANGUAGES, help="the text's language (default: guessed from it)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    try:
        packaged_articles()
    except ContentError as exc:
        print(f"agora: invalid article: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        settings = load_settings(token_required=arguments.command not in {"check", "new-article"})
    except ConfigError as exc:
        print(f"agora: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if arguments.command == "check":
        return check(settings is not None)
    if arguments.command == "new-article":
        return new_article(arguments)
    assert settings is not None

    if arguments.command == "outbox":
        from bot.engine.metrics import describe_outbox

        print(asyncio.run(describe_outbox(settings.database_url)))
        return 0

    # Opt in to python-telegram-bot's timedelta durations (RetryAfter.retry_after), which
    # otherwise warn on every flood-control answer.
    os.environ.setdefault("PTB_TIMEDELTA", "true")

    from bot.app import serve
    from bot.core.logs import configure_logging

    configure_logging(
        settings.log_level, settings.secrets(), settings.log_format, settings.log_personal_data
    )
    try:
        asyncio.run(serve(settings))
    except StartupError as exc:
        print(f"agora: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except Exception:  # logged through the filter that hides the secrets, not printed raw
        logging.getLogger("bot").exception("Agora stopped on an unexpected error")
        return 1
    return 0


def new_article(arguments: argparse.Namespace) -> int:
    """Write the scaffold of an article; say where, and what is left to write."""
    folder = articles_dir_setting()
    day = arguments.date or datetime.now(UTC).date()
    try:
        made = write_scaffold(
            arguments.source, folder, arguments.article_id, day, arguments.language
        )
    except ScaffoldError as exc:
        print(f"agora: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    print(f"wrote {made.article} (source text kept in {made.source})")
    print(f"{len(made.questions)} closing questions found ({made.language}):")
    for number, question in enumerate(made.questions, 1):
        print(f"  {number}. {question}")
    print(f"next: replace every {TO_FILL!r} in it, then run `python -m bot check`")
    return 0


def check(token_set: bool) -> int:
    """Validate every article (packaged and ARTICLES_DIR's) and the settings: one line per
    article, one per error naming the file and the field; exit code 2 if any error."""
    folder = articles_dir_setting()
    found = scan(folder)
    for article in found.library.articles:
        retired = ", retired" if article.retired else ""
        print(f"ok: {article.id} ({len(article.questions)} questions{retired}) — {article.where}")
    for error in found.errors:
        print(f"error: {error}", file=sys.stderr)
    if not folder.is_dir():
        print(f"note: ARTICLES_DIR {folder} does not exist yet (no article added)")
    print("ok: settings" + ("" if token_set else " (BOT_TOKEN is not set: needed to run)"))
    return EXIT_CONFIG if found.errors else 0


if __name__ == "__main__":
    sys.exit(main())
