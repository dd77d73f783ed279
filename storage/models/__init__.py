"""The database schema as typed SQLAlchemy models, one module per area. Every model is
imported here, so that `Base.metadata` (which the migrations and the tests compare against)
holds them all, and callers import them from `storage.models`."""

from storage.models.base import Base, table, affected
from storage.models.chats import Chat
from storage.models.polls import PostedPoll, PollTally, option_bits, options_of, Ballot, QuestionTotal, OptionTotal
from storage.models.discussion import INTEGER_MAX, Opinion, SummaryPost
from storage.models.digests import SentDigest
from storage.models.engine import BotState, HandledUpdate, InboxUpdate, OutboxMessage
from storage.models.articles import KnownArticle, Announcement

__all__ = [
    "Base",
    "table",
    "affected",
    "Chat",
    "PostedPoll",
    "PollTally",
    "option_bits",
    "options_of",
    "Ballot",
    "QuestionTotal",
    "OptionTotal",
    "INTEGER_MAX",
    "Opinion",
    "SummaryPost",
    "SentDigest",
    "BotState",
    "HandledUpdate",
    "InboxUpdate",
    "OutboxMessage",
    "KnownArticle",
    "Announcement",
]
