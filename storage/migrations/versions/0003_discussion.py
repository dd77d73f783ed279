"""Discussion: opinions, the summary messages they reply to, and voters' names for exports.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ballots") as batch:
        batch.add_column(sa.Column("voter_name", sa.String(128)))
    op.create_table(
        "opinions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "chat_id",
            sa.BigInteger(),
            sa.ForeignKey("chats.id", onupdate="CASCADE", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("article_id", sa.String(64), nullable=False),
        sa.Column("question_key", sa.String(32)),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("author", sa.String(128), nullable=False),
        sa.Column("text", sa.String(4096), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("chat_id", "message_id"),
    )
    op.create_index("ix_opinions_chat_id", "opinions", ["chat_id"])
    op.create_index("ix_opinions_user_id", "opinions", ["user_id"])
    op.create_table(
        "summary_posts",
        sa.Column(
            "chat_id",
            sa.BigInteger(),
            sa.ForeignKey("chats.id", onupdate="CASCADE", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("message_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("article_id", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("summary_posts")
    op.drop_table("opinions")
    with op.batch_alter_table("ballots") as batch:
        batch.drop_column("voter_name")
