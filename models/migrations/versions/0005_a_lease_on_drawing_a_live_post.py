"""a lease on drawing a live post

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 05:59:35.259619
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("drop_posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("drawing_until", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("drop_posts", schema=None) as batch_op:
        batch_op.drop_column("drawing_until")
