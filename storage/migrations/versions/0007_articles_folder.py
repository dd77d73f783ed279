"""Chats follow the latest article unless they chose one; new articles are announced once.

Every existing chat follows the latest article: until now a chat could only have the newest
packaged article (one article shipped) unless its administrators picked another.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite too): rebuilding the chats table would trip the foreign keys
    # that point at it.
    op.add_column(
        "chats",
        sa.Column("follows_latest", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.create_table(
        "known_articles",
        sa.Column("article_id", sa.String(64), primary_key=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "announcements",
        sa.Column(
            "chat_id",
            sa.BigInteger(),
            sa.ForeignKey("chats.id", onupdate="CASCADE", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("article_id", sa.String(64), primary_key=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
    )
    op.create_index("ix_announcements_status_due", "announcements", ["status", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_announcements_status_due", "announcements")
    op.drop_table("announcements")
    op.drop_table("known_articles")
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("follows_latest")
