"""pickup points located; nearby offers; leader applications

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 16:18:35.001823
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "leader_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("place", sa.String(length=128), nullable=False),
        sa.Column("address", sa.String(length=256), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("about", sa.Text(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "approved",
                "rejected",
                "used",
                name="applicationstate",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_leader_applications_community_id_communities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leader_applications")),
    )
    with op.batch_alter_table("leader_applications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_leader_applications_user_state", ["user_id", "state"], unique=False
        )

    op.create_table(
        "nearby_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("offered_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_nearby_offers_community_id_communities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nearby_offers")),
    )
    with op.batch_alter_table("nearby_offers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_nearby_offers_user_community", ["user_id", "community_id"], unique=False
        )

    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("point_lat", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("point_lon", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("invite_link", sa.String(length=256), nullable=True))
        batch_op.add_column(
            sa.Column("invite_link_by_bot", sa.Boolean(), server_default="0", nullable=False)
        )
        batch_op.create_index(
            "ix_communities_point_location",
            ["point_lat", "point_lon", "active", "id"],
            unique=False,
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_lat", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("last_lon", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("located_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("located_at")
        batch_op.drop_column("last_lon")
        batch_op.drop_column("last_lat")

    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.drop_index("ix_communities_point_location")
        batch_op.drop_column("invite_link_by_bot")
        batch_op.drop_column("invite_link")
        batch_op.drop_column("point_lon")
        batch_op.drop_column("point_lat")

    with op.batch_alter_table("nearby_offers", schema=None) as batch_op:
        batch_op.drop_index("ix_nearby_offers_user_community")

    op.drop_table("nearby_offers")
    with op.batch_alter_table("leader_applications", schema=None) as batch_op:
        batch_op.drop_index("ix_leader_applications_user_state")

    op.drop_table("leader_applications")
