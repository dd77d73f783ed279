"""The report's history: each question's results in all chats, a row per question each time
they changed, recorded every quarter of an hour (an hour keeps its last), read by moment;
and the indexes the report's table of chats reads alone.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "result_snapshots",
        sa.Column("article_id", sa.String(length=64), nullable=False),
        sa.Column("question_key", sa.String(length=32), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("voters", sa.Integer(), nullable=False),
        sa.Column("votes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("article_id", "question_key", "taken_at"),
    )
    op.create_index(
        "ix_result_snapshots_article_taken", "result_snapshots", ["article_id", "taken_at"]
    )
    # The report's table of chats, each chat's polls and opinions grouped from an index alone.
    op.create_index(
        "ix_posted_polls_report",
        "posted_polls",
        ["article_id", "superseded", "chat_id", "voter_count", "posted_at"],
    )
    op.create_index("ix_opinions_article_chat", "opinions", ["article_id", "chat_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_opinions_article_chat", table_name="opinions")
    op.drop_index("ix_posted_polls_report", table_name="posted_polls")
    op.drop_table("result_snapshots")
