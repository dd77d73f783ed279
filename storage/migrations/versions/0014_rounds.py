"""Rounds: a chat may ask an article's questions again after a close; each poll knows its
round, and the polls of a round a later one replaced are marked superseded. A person's
answers found by their user id (/me, /forgetme). And answers applied in Telegram's order:
each ballot keeps its update, a retraction leaves its update behind.

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
    # Answers applied in Telegram's order whatever order they are handled in.
    op.add_column("ballots", sa.Column("update_id", sa.BigInteger(), nullable=True))
    op.create_table(
        "retractions",
        sa.Column("poll_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("update_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["poll_id"], ["posted_polls.poll_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("poll_id", "user_id"),
    )


def downgrade() -> None:
    op.drop_table("retractions")
    op.execute("ALTER TABLE ballots DROP COLUMN update_id")
    op.drop_index("ix_ballots_user", table_name="ballots")
    # SQLite 3.35 and later drop a column in place.
    op.execute("ALTER TABLE poll_closes DROP COLUMN round")
    op.execute("ALTER TABLE posted_polls DROP COLUMN superseded")
    op.execute("ALTER TABLE posted_polls DROP COLUMN round")
