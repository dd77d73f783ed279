"""Digests go to the forum topic they were turned on in.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("digest_thread_id", sa.BigInteger()))


def downgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("digest_thread_id")
