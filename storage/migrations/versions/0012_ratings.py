"""Ratings of opinions (agree, disagree, pass), and each opinion's counts of them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTS = ("agreed", "disagreed", "passed")


def upgrade() -> None:
    for name in COUNTS:
        op.add_column(
            "opinions", sa.Column(name, sa.Integer(), nullable=False, server_default="0")
        )
    op.create_table(
        "opinion_ratings",
        sa.Column("opinion_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("value", sa.SmallInteger(), nullable=False),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["opinion_id"], ["opinions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("opinion_id", "user_id"),
    )
    op.create_index("ix_opinion_ratings_user", "opinion_ratings", ["user_id", "opinion_id"])


def downgrade() -> None:
    op.drop_index("ix_opinion_ratings_user", table_name="opinion_ratings")
    op.drop_table("opinion_ratings")
    with op.batch_alter_table("opinions") as batch:
        for name in COUNTS:
            batch.drop_column(name)
