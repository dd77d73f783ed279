"""All-chats totals per article question, filled from the existing poll tallies.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "question_totals",
        sa.Column("article_id", sa.String(64), primary_key=True),
        sa.Column("question_key", sa.String(32), primary_key=True),
        sa.Column("voters", sa.Integer(), nullable=False),
    )
    op.create_table(
        "option_totals",
        sa.Column("article_id", sa.String(64), primary_key=True),
        sa.Column("question_key", sa.String(32), primary_key=True),
        sa.Column("option_index", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("votes", sa.Integer(), nullable=False),
    )
    op.execute(
        "INSERT INTO question_totals (article_id, question_key, voters) "
        "SELECT article_id, question_key, SUM(voter_count) FROM posted_polls "
        "GROUP BY article_id, question_key"
    )
    op.execute(
        "INSERT INTO option_totals (article_id, question_key, option_index, votes) "
        "SELECT p.article_id, p.question_key, t.option_index, SUM(t.votes) "
        "FROM poll_tallies t JOIN posted_polls p ON p.poll_id = t.poll_id "
        "GROUP BY p.article_id, p.question_key, t.option_index"
    )


def downgrade() -> None:
    op.drop_table("option_totals")
    op.drop_table("question_totals")
