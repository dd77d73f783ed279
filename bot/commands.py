"""The bot's commands, English names with French aliases, in one registry.

Handlers, the help text and the command menus (setMyCommands) are all built from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import LANGUAGES, gettext, using_language


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


@dataclass(frozen=True, slots=True)
class Command:
    en: str
    fr: str
    description: str  # a message id
    arguments: str = ""  # a message id, shown in the help text
    aliases: tuple[str, ...] = ()  # former names, still accepted, never shown

    def name(self, language: str) -> str:
        return self.fr if language == "fr" else self.en

    @property
    def names(self) -> list[str]:
        return list(dict.fromkeys((self.en, self.fr, *self.aliases)))


HELP = Command("help", "aide", N_("what the bot does, and its commands"))
SUMMARY = Command("summary", "resume", N_("the article's summary"))
POLL = Command("poll", "sondage", N_("post the article's questions as polls"), N_("[anonymous]"))
RESULTS = Command("results", "resultats", N_("the results, here and in all chats"))
CROSSTAB = Command(
    "crosstab", "croiser", N_("how the answers to two questions go together"), N_("A B")
)
# "/camps" was its first French name: the answer itself says to read groups "as tendencies
# rather than camps", so it is now "/groupes", and "/camps" still works.
GROUPS = Command(
    "groups", "groupes", N_("opinion groups among the voters"), N_("[all]"), aliases=("camps",)
)
ARTICLES = Command("articles", "articles", N_("the articles available"))
ARTICLE = Command(
    "article", "article", N_("choose the article to discuss"), N_("<id|latest>")
)
LANG = Command("lang", "langue", N_("choose the language: fr or en"), N_("[fr|en]"))
DIGEST = Command(
    "digest", "bilan", N_("the daily digest: on, off, a time, or now"), N_("[on|off|HH:MM|now]")
)
TIMEZONE = Command(
    "timezone", "fuseau", N_("the time zone of the digest"), N_("[Europe/Paris]")
)

OPINION = Command(
    "opinion", "avis", N_("give your opinion on the article (without text: the latest ones)"),
    N_("<text>"),
)
OPINIONS = Command("opinions", "opinions", N_("the latest opinions, question by question"))
DELETE = Command("delete", "supprimer", N_("in reply to an opinion: remove it"))
EXPORT = Command("export", "exporter", N_("this chat's results and opinions as a CSV file"))
FORGETME = Command("forgetme", "oublier", N_("delete all your votes and opinions"))

COMMANDS: tuple[Command, ...] = (
    HELP, SUMMARY, POLL, RESULTS, CROSSTAB, GROUPS, OPINION, OPINIONS, DELETE, EXPORT,
    FORGETME, ARTICLES, ARTICLE, LANG, DIGEST, TIMEZONE,
)

ANONYMOUS_WORDS = frozenset({"anonymous", "anonyme", "anon"})
DIGEST_ON = frozenset({"on", "oui", "yes", "activer", "marche"})
DIGEST_OFF = frozenset({"off", "non", "no", "désactiver", "desactiver", "arrêt", "arret"})
DIGEST_NOW = frozenset({"now", "maintenant"})
LATEST_WORDS = frozenset({"latest", "dernier", "derniere", "dernière"})
ALL_CHATS_WORDS = frozenset({"all", "tous", "toutes", "tout"})


def menu(language: str) -> list[tuple[str, str]]:
    """(command, description) pairs for setMyCommands in `language`."""
    with using_language(language):
        return [(c.name(language), gettext(c.description)) for c in COMMANDS]


def all_menus() -> dict[str, list[tuple[str, str]]]:
    return {language: menu(language) for language in LANGUAGES}
