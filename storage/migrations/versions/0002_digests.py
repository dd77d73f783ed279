"""Daily digests: per-chat digest settings and the record of sent digests.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("user_language", sa.String(8)))
        batch.add_column(
            sa.Column("digest_enabled", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("digest_time", sa.String(5)))
        batch.add_column(sa.Column("timezone", sa.String(64)))
    op.create_table(
        "sent_digests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "chat_id",
            sa.BigInteger(),
            sa.ForeignKey("chats.id", onupdate="CASCADE", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("daily_date", sa.Date()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("numbers", sa.JSON(), nullable=False),
        sa.UniqueConstraint("chat_id", "daily_date"),
    )
    op.create_index("ix_sent_digests_chat_id", "sent_digests", ["chat_id"])


def downgrade() -> None:
    op.drop_table("sent_digests")
    with op.batch_alter_table("chats") as batch:
        for column in ("timezone", "digest_time", "digest_enabled", "user_language"):
            batch.drop_column(column)
