"""/start and /help [/aide]: what the bot does and its commands, in the chat's language."""

from __future__ import annotations

from telegram import Update

from bot.context import AgoraApp, AgoraContext
from bot.core.commands import COMMANDS, HELP, SUMMARY
from bot.core.formatting import escape
from bot.core.i18n import _, current_language, gettext
from handlers.common import command, reply


def help_text() -> str:
    language = current_language()
    lines = [
        _(
            "<b>Agora</b> lets this chat discuss a news article: read its summary, answer its "
            "questions as polls, and follow the results."
        ),
        "",
        _("<b>Commands</b>"),
    ]
    for entry in COMMANDS:
        arguments = f" {escape(gettext(entry.arguments))}" if entry.arguments else ""
        lines.append(
            f"/{entry.name(language)}{arguments} — {escape(gettext(entry.description))}"
        )
    lines += [
        "",
        _(
            "Commands work in English and in French (for example /{en} or /{fr}). In groups, only "
            "administrators may post polls or change the settings."
        ).format(en=SUMMARY.en, fr=SUMMARY.fr),
    ]
    return "\n".join(lines)


async def show_help(update: Update, context: AgoraContext) -> None:
    """Explain the bot and list its commands."""
    reply(update, help_text())


def register(app: AgoraApp) -> None:
    app.add_handler(command(["start", *HELP.names], show_help))
