"""The outbox of Telegram calls to make, and the updates handled but not yet acknowledged.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "handled_updates",
        sa.Column("update_id", sa.BigInteger(), primary_key=True, autoincrement=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("attachment", sa.LargeBinary()),
        sa.Column("effect", sa.JSON()),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_outbox_chat_id", "outbox", ["chat_id"])
    op.create_index("ix_outbox_status_id", "outbox", ["status", "id"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("handled_updates")
