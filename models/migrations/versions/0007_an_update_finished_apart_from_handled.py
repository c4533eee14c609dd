"""an update finished apart from handled

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 09:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("finished_at", sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_inbox_finished_at"), ["finished_at"], unique=False)
        # Claims and pruning now look at finished_at; nothing looks updates up by handled_at, and
        # every effect's transaction writes it.
        batch_op.drop_index(batch_op.f("ix_inbox_handled_at"))
    # Until now an update was done once handled: those are finished, not to be handled again.
    op.execute("UPDATE inbox SET finished_at = handled_at WHERE handled_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbox_handled_at"), ["handled_at"], unique=False)
        batch_op.drop_index(batch_op.f("ix_inbox_finished_at"))
        batch_op.drop_column("finished_at")
