"""Ballots keep their chosen options as bits too, filled from the existing JSON lists, and an
index that lets a cross-tab read a poll's answers by user without the table.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each option index once (SUM DISTINCT): the bits of storage.models.option_bits.
FILL = {
    "sqlite": (
        "UPDATE ballots SET option_bits = "
        "(SELECT COALESCE(SUM(DISTINCT 1 << value), 0) FROM json_each(ballots.options))"
    ),
    "postgresql": (
        "UPDATE ballots SET option_bits = "
        "(SELECT COALESCE(SUM(DISTINCT 1::bigint << value::int), 0) "
        "FROM json_array_elements_text(ballots.options) AS value)"
    ),
}


def upgrade() -> None:
    op.add_column("ballots", sa.Column("option_bits", sa.BigInteger()))
    op.execute(FILL[op.get_bind().dialect.name])
    # NOT NULL once filled (SQLite rebuilds the table: nothing refers to ballots).
    with op.batch_alter_table("ballots") as batch:
        batch.alter_column("option_bits", existing_type=sa.BigInteger(), nullable=False)
    op.create_index("ix_ballots_answers", "ballots", ["poll_id", "user_id", "option_bits"])


def downgrade() -> None:
    op.drop_index("ix_ballots_answers", table_name="ballots")
    with op.batch_alter_table("ballots") as batch:
        batch.drop_column("option_bits")
