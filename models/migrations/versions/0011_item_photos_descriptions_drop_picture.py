"""item photos, descriptions and the drop picture's file ids

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 20:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "item_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("drop_item_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.String(length=255), nullable=False),
        sa.Column("media_group_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["drop_item_id"],
            ["drop_items.id"],
            name=op.f("fk_item_photos_drop_item_id_drop_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_photos")),
        sa.UniqueConstraint(
            "drop_item_id", "position", name=op.f("uq_item_photos_drop_item_id_position")
        ),
    )
    with op.batch_alter_table("item_photos", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_item_photos_drop_item_id"), ["drop_item_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_item_photos_media_group_id"), ["media_group_id"], unique=False
        )
    with op.batch_alter_table("drop_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description", sa.String(length=500), nullable=True))
    with op.batch_alter_table("drops", schema=None) as batch_op:
        batch_op.add_column(sa.Column("picture_file_ids", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("drops", schema=None) as batch_op:
        batch_op.drop_column("picture_file_ids")
    with op.batch_alter_table("drop_items", schema=None) as batch_op:
        batch_op.drop_column("description")
    with op.batch_alter_table("item_photos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_photos_media_group_id"))
        batch_op.drop_index(batch_op.f("ix_item_photos_drop_item_id"))
    op.drop_table("item_photos")
