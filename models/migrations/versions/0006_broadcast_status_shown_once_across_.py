"""broadcast status shown once across instances

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 06:14:49.955313
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shown_hash", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("shown_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_column("shown_at")
        batch_op.drop_column("shown_hash")
