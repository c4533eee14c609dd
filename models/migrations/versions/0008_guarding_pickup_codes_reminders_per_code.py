"""guarding pickup codes; reminders per code

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 14:23:01.421640
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "wrong_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wrong_codes")),
    )
    with op.batch_alter_table("wrong_codes", schema=None) as batch_op:
        batch_op.create_index("ix_wrong_codes_user_at", ["user_id", "at"], unique=False)

    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bot_can_delete", sa.Boolean(), nullable=True))

    with op.batch_alter_table("pickup_codes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminded_at", sa.DateTime(), nullable=True))

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("codes_paused_until", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("codes_paused_until")

    with op.batch_alter_table("pickup_codes", schema=None) as batch_op:
        batch_op.drop_column("reminded_at")

    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.drop_column("bot_can_delete")

    with op.batch_alter_table("wrong_codes", schema=None) as batch_op:
        batch_op.drop_index("ix_wrong_codes_user_at")

    op.drop_table("wrong_codes")
