"""pickup point record, community settings, shortages, live posts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 21:49:13.928863
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("point_contact", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("point_phone", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("point_province", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("point_city", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("point_district", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("point_address", sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column("point_hours", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("point_route", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("point_region", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("first_nudge", sa.Integer(), server_default="3600", nullable=False)
        )
        batch_op.add_column(
            sa.Column("second_nudge", sa.Integer(), server_default="900", nullable=False)
        )
        batch_op.add_column(
            sa.Column("reminder_time", sa.String(length=5), server_default="19:00", nullable=False)
        )
        batch_op.add_column(sa.Column("reminded_on", sa.Date(), nullable=True))

    with op.batch_alter_table("drop_posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("edited_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("render_hash", sa.String(length=16), nullable=True))

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("short_quantity", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("short_quantity")

    with op.batch_alter_table("drop_posts", schema=None) as batch_op:
        batch_op.drop_column("render_hash")
        batch_op.drop_column("edited_at")

    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.drop_column("reminded_on")
        batch_op.drop_column("reminder_time")
        batch_op.drop_column("second_nudge")
        batch_op.drop_column("first_nudge")
        batch_op.drop_column("point_region")
        batch_op.drop_column("point_route")
        batch_op.drop_column("point_hours")
        batch_op.drop_column("point_address")
        batch_op.drop_column("point_district")
        batch_op.drop_column("point_city")
        batch_op.drop_column("point_province")
        batch_op.drop_column("point_phone")
        batch_op.drop_column("point_contact")
