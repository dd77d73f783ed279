"""Closing polls: when a poll was closed, and each chat's close of an article's polls.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Not in a batch: SQLite would copy posted_polls, and its tallies and ballots with it.
    op.add_column("posted_polls", sa.Column("closed_at", sa.DateTime(timezone=True)))
    op.create_table(
        "poll_closes",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("article_id", sa.String(length=64), nullable=False),
        sa.Column("hidden", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("remind_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("results_message_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], onupdate="CASCADE", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("chat_id", "article_id"),
    )
    op.create_index("ix_poll_closes_due", "poll_closes", ["closed_at", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_poll_closes_due", table_name="poll_closes")
    op.drop_table("poll_closes")
    op.execute("ALTER TABLE posted_polls DROP COLUMN closed_at")  # SQLite 3.35 and later
