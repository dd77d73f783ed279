"""The database schema as typed SQLAlchemy models, one module per area. Every model is
imported here, so that `Base.metadata` (which the migrations and the tests compare against)
holds them all, and callers import them from `storage.models`."""

from storage.models.articles import Announcement, KnownArticle
from storage.models.base import Base, affected, as_utc, table
from storage.models.chats import ChannelManager, Chat
from storage.models.closes import PollClose
from storage.models.digests import SentDigest
from storage.models.discussion import INTEGER_MAX, Opinion, Rating, SummaryPost
from storage.models.engine import BotState, HandledUpdate, InboxUpdate, OutboxMessage
from storage.models.polls import (
    Ballot,
    OptionTotal,
    PollTally,
    PostedPoll,
    QuestionTotal,
    ResultSnapshot,
    Retraction,
    option_bits,
    options_of,
    polls_of,
)

__all__ = [
    "INTEGER_MAX",
    "Announcement",
    "Ballot",
    "Base",
    "BotState",
    "ChannelManager",
    "Chat",
    "HandledUpdate",
    "InboxUpdate",
    "KnownArticle",
    "Opinion",
    "OptionTotal",
    "OutboxMessage",
    "PollClose",
    "PollTally",
    "PostedPoll",
    "QuestionTotal",
    "Rating",
    "ResultSnapshot",
    "Retraction",
    "SentDigest",
    "SummaryPost",
    "affected",
    "as_utc",
    "option_bits",
    "options_of",
    "polls_of",
    "table",
]
