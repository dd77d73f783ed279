"""The report page: an article's opinions by date, in every chat, read from an index.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_opinions_article_created", "opinions", ["article_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_opinions_article_created", table_name="opinions")
