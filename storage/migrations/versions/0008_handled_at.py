"""Handled updates remember when they were handled, so that webhook mode (where no batch
watermark forgets them) can forget them once Telegram no longer redelivers them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (nullable, no default): no table rebuild on SQLite.
    op.add_column("handled_updates", sa.Column("handled_at", sa.DateTime(timezone=True)))
    op.create_index("ix_handled_updates_handled_at", "handled_updates", ["handled_at"])


def downgrade() -> None:
    op.drop_index("ix_handled_updates_handled_at", table_name="handled_updates")
    op.drop_column("handled_updates", "handled_at")
