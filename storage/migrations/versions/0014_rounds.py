"""Rounds: a chat may ask an article's questions again after a close; each poll knows its
round, and the polls of a round a later one replaced are marked superseded. And a person's
answers found by their user id (/me, /forgetme).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Not in a batch: SQLite would copy posted_polls, and its tallies and ballots with it.
    # Every poll and close until now is of the first round.
    op.add_column(
        "posted_polls", sa.Column("round", sa.Integer(), server_default="1", nullable=False)
    )
    op.add_column(
        "posted_polls",
        sa.Column("superseded", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "poll_closes", sa.Column("round", sa.Integer(), server_default="1", nullable=False)
    )
    op.create_index("ix_ballots_user", "ballots", ["user_id", "answered_at"])


def downgrade() -> None:
    op.drop_index("ix_ballots_user", table_name="ballots")
    # SQLite 3.35 and later drop a column in place.
    op.execute("ALTER TABLE poll_closes DROP COLUMN round")
    op.execute("ALTER TABLE posted_polls DROP COLUMN superseded")
    op.execute("ALTER TABLE posted_polls DROP COLUMN round")
