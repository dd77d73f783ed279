"""Channels: a channel's public name on its chat row, the administrators who linked each
channel to Agora from a private chat, and the polls answered in person for a channel.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("chats", sa.Column("username", sa.String(length=32), nullable=True))
    op.create_index("ix_chats_username", "chats", ["username"])
    op.add_column("chats", sa.Column("discussion_id", sa.BigInteger(), nullable=True))
    for flag in ("publish_auto", "digest_in_discussion"):
        op.add_column(
            "chats", sa.Column(flag, sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "channel_managers",
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "linked_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["chats.id"], onupdate="CASCADE", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("channel_id", "user_id"),
    )
    op.create_index("ix_channel_managers_user_id", "channel_managers", ["user_id"])
    # Not in a batch: SQLite would copy posted_polls, and its tallies and ballots with it.
    op.add_column("posted_polls", sa.Column("via_chat_id", sa.BigInteger(), nullable=True))
    op.create_index("ix_posted_polls_via_chat_id", "posted_polls", ["via_chat_id"])


def downgrade() -> None:
    op.drop_index("ix_posted_polls_via_chat_id", table_name="posted_polls")
    op.execute("ALTER TABLE posted_polls DROP COLUMN via_chat_id")
    op.drop_index("ix_channel_managers_user_id", table_name="channel_managers")
    op.drop_table("channel_managers")
    op.execute("ALTER TABLE chats DROP COLUMN digest_in_discussion")
    op.execute("ALTER TABLE chats DROP COLUMN publish_auto")
    op.execute("ALTER TABLE chats DROP COLUMN discussion_id")
    op.drop_index("ix_chats_username", table_name="chats")
    # SQLite 3.35 and later drop a column in place.
    op.execute("ALTER TABLE chats DROP COLUMN username")
