"""The bot's commands, English names with French aliases, in one registry.

Handlers, the help text and the command menus (setMyCommands) are all built from it, and
each command says here who may use it in a group: the handler wrapper (handlers/request.py)
holds it to that, and tells the others why not in the registry's words.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.core.i18n import LANGUAGES, gettext, using_language


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


class Rights(enum.Enum):
    """Who may use a command in a group; in a private chat, its person always may."""

    ANYONE = "anyone"
    ADMINS = "admins"  # checked before the handler runs
    # Anyone may look; where the handler acts (posts, changes a setting) it checks first
    # (Request.require_admin), after telling what anyone may be told.
    ADMINS_TO_ACT = "admins to act"


@dataclass(frozen=True, slots=True)
class Command:
    en: str
    fr: str
    description: str  # a message id
    arguments: str = ""  # a message id, shown in the help text
    rights: Rights = Rights.ANYONE
    refusal: str = ""  # a message id: what a member who may not is told
    aliases: tuple[str, ...] = ()  # former names, still accepted, never shown
    # It shows the article's results: while they are hidden until the close (/poll hidden),
    # the chat gets only how many answered (handlers.request).
    shows_results: bool = False
    # In private, its first argument may name a channel Agora publishes in (/digest @name
    # on): it then acts on the channel, its rights checked against the channel's
    # administrators (handlers.request).
    channels: bool = False

    def __post_init__(self) -> None:
        if (self.rights is Rights.ANYONE) != (not self.refusal):
            raise ValueError(f"/{self.en}: a refusal goes with rights, and only with them")

    def name(self, language: str) -> str:
        return self.fr if language == "fr" else self.en

    @property
    def names(self) -> list[str]:
        return list(dict.fromkeys((self.en, self.fr, *self.aliases)))


HELP = Command("help", "aide", N_("what the bot does, and its commands"))
SUMMARY = Command("summary", "resume", N_("the article's summary"))
POLL = Command(
    "poll", "sondage", N_("post the article's questions as polls"), N_("[anonymous] [hidden]"),
    rights=Rights.ADMINS_TO_ACT,
    refusal=N_("Only the group's administrators can post the polls: ask one of them."),
)
RESULTS = Command(
    "results", "resultats", N_("the results, here and in all chats"), N_("[@channel]"),
    shows_results=True, channels=True,
)
CLOSE = Command(
    "close", "cloturer", N_("close the polls now or later, and post the final results"),
    N_("[2h|3d|18:30|off]"),
    rights=Rights.ADMINS_TO_ACT,
    refusal=N_("Only the group's administrators can close the polls: ask one of them."),
    channels=True,
)
CROSSTAB = Command(
    "crosstab", "croiser", N_("how the answers to two questions go together"), N_("A B"),
    shows_results=True, channels=True,
)
# "/camps" was its first French name: the answer itself says to read groups "as tendencies
# rather than camps", so it is now "/groupes", and "/camps" still works.
GROUPS = Command(
    "groups", "groupes", N_("opinion groups among the voters"), N_("[all]"), aliases=("camps",),
    shows_results=True, channels=True,
)
ARTICLES = Command("articles", "articles", N_("the articles available"))
ARTICLE = Command(
    "article", "article", N_("choose the article to discuss"), N_("<id|latest>"),
    rights=Rights.ADMINS_TO_ACT,
    refusal=N_("Only the group's administrators can change the article: ask one of them."),
    channels=True,
)
LANG = Command(
    "lang", "langue", N_("choose the language: fr or en"), N_("[fr|en]"),
    rights=Rights.ADMINS_TO_ACT,
    refusal=N_("Only the group's administrators can change the language: ask one of them."),
    channels=True,
)
DIGEST = Command(
    "digest", "bilan", N_("the daily digest: on, off, a time, or now"), N_("[on|off|HH:MM|now]"),
    rights=Rights.ADMINS_TO_ACT,
    refusal=N_("Only the group's administrators can change the digest: ask one of them."),
    channels=True,
)
TIMEZONE = Command(
    "timezone", "fuseau", N_("the time zone of the digest"), N_("[Europe/Paris]"),
    rights=Rights.ADMINS_TO_ACT,
    refusal=N_("Only the group's administrators can change the digest: ask one of them."),
    channels=True,
)

OPINION = Command(
    "opinion", "avis", N_("give your opinion on the article (without text: the latest ones)"),
    N_("<text>"),
)
OPINIONS = Command(
    "opinions", "opinions", N_("the latest opinions, question by question"), channels=True
)
RATE = Command("rate", "evaluer", N_("agree or disagree with the others' opinions, in private"))
ME = Command("me", "moi", N_("where you stand in the chats where you voted, in private"))
DELETE = Command(
    "delete", "supprimer", N_("in reply to an opinion: remove it"),
    rights=Rights.ADMINS_TO_ACT,  # its author may too
    refusal=N_("Only the group's administrators or the opinion's author can remove it."),
)
EXPORT = Command(
    "export", "exporter", N_("this chat's results and opinions as a CSV file"),
    rights=Rights.ADMINS,
    refusal=N_("Only the group's administrators can export the results: ask one of them."),
    channels=True,
)
FORGETME = Command(
    "forgetme", "oublier", N_("delete all your votes, opinions and ratings")
)

CHANNEL = Command(
    "channel", "canal", N_("in private: link a channel you administer, or list yours"),
    N_("[@channel]"),
)
PUBLISH = Command(
    "publish", "publier", N_("in private: post the article and its polls in your channel"),
    N_("@channel"),
)

REPORT = Command(
    "report", "rapport", N_("in private: the report of the chats you administer, in Telegram")
)

COMMANDS: tuple[Command, ...] = (
    HELP, SUMMARY, POLL, RESULTS, CLOSE, CROSSTAB, GROUPS, OPINION, OPINIONS, RATE, ME, DELETE,
    EXPORT, FORGETME, ARTICLES, ARTICLE, LANG, DIGEST, TIMEZONE, CHANNEL, PUBLISH, REPORT,
)

ANONYMOUS_WORDS = frozenset({"anonymous", "anonyme", "anon"})
HIDDEN_WORDS = frozenset({"hidden", "masque", "masqué", "masques", "masqués", "cache", "caché"})
DIGEST_ON = frozenset({"on", "oui", "yes", "activer", "marche"})
DIGEST_OFF = frozenset({"off", "non", "no", "désactiver", "desactiver", "arrêt", "arret"})
DIGEST_NOW = frozenset({"now", "maintenant"})
DIGEST_IN_GROUP = frozenset({"group", "groupe", "discussion"})  # a channel's, to its group
DIGEST_IN_CHANNEL = frozenset({"channel", "canal"})
CLOSE_OFF = DIGEST_OFF | {"annuler", "cancel"}
LATEST_WORDS = frozenset({"latest", "dernier", "derniere", "dernière"})
ALL_CHATS_WORDS = frozenset({"all", "tous", "toutes", "tout"})


def menu(language: str) -> list[tuple[str, str]]:
    """(command, description) pairs for setMyCommands in `language`."""
    with using_language(language):
        return [(c.name(language), gettext(c.description)) for c in COMMANDS]


def all_menus() -> dict[str, list[tuple[str, str]]]:
    return {language: menu(language) for language in LANGUAGES}
