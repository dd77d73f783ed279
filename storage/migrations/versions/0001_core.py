"""Core schema: chats, posted polls, tallies, ballots and the bot's own state.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chats",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("title", sa.String(255)),
        sa.Column("language", sa.String(8)),
        sa.Column("article_id", sa.String(64)),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )
    op.create_table(
        "posted_polls",
        sa.Column("poll_id", sa.String(64), primary_key=True),
        sa.Column(
            "chat_id",
            sa.BigInteger(),
            sa.ForeignKey("chats.id", onupdate="CASCADE"),
            nullable=False,
        ),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("article_id", sa.String(64), nullable=False),
        sa.Column("question_key", sa.String(32), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("multiple", sa.Boolean(), nullable=False),
        sa.Column("option_ids", sa.JSON(), nullable=False),
        sa.Column("voter_count", sa.Integer(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_posted_polls_chat_id", "posted_polls", ["chat_id"])
    op.create_index("ix_posted_polls_article_id", "posted_polls", ["article_id"])
    op.create_table(
        "poll_tallies",
        sa.Column(
            "poll_id",
            sa.String(64),
            sa.ForeignKey("posted_polls.poll_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("option_index", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("votes", sa.Integer(), nullable=False),
    )
    op.create_table(
        "ballots",
        sa.Column(
            "poll_id",
            sa.String(64),
            sa.ForeignKey("posted_polls.poll_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "bot_state",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    for table in ("bot_state", "ballots", "poll_tallies", "posted_polls", "chats"):
        op.drop_table(table)
