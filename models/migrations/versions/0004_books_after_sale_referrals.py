"""books, after-sale, referrals; outbox claim owners

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 23:21:38.315820
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(), nullable=True))

    op.create_table(
        "shipments",
        sa.Column("pickup_date", sa.Date(), nullable=False),
        sa.Column("shipped_at", sa.DateTime(), nullable=False),
        sa.Column("shipped_by", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("pickup_date", name=op.f("pk_shipments")),
    )
    op.create_table(
        "after_sale_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("cancel", "return", name="requestkind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending", "approved", "rejected", name="requeststate", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("photos", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_after_sale_requests_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_after_sale_requests")),
    )
    with op.batch_alter_table("after_sale_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_after_sale_requests_order_state", ["order_id", "state"], unique=False
        )

    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "commission", "payout", "points", name="ledgerkind", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_ledger_entries_community_id_communities"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_ledger_entries_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_entries_kind_community_at", ["kind", "community_id", "at"], unique=False
        )
        batch_op.create_index(
            "ix_ledger_entries_kind_user_at", ["kind", "user_id", "at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ledger_entries_order_id"), ["order_id"], unique=False)

    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("commission_rate", sa.Integer(), server_default="1000", nullable=False)
        )

    with op.batch_alter_table("drop_items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("return_hours", sa.Integer(), server_default="48", nullable=False)
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("referred_by", sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f("ix_users_referred_by"), ["referred_by"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("claimed_by")

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_referred_by"))
        batch_op.drop_column("referred_by")

    with op.batch_alter_table("drop_items", schema=None) as batch_op:
        batch_op.drop_column("return_hours")

    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.drop_column("commission_rate")

    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_entries_order_id"))
        batch_op.drop_index("ix_ledger_entries_kind_user_at")
        batch_op.drop_index("ix_ledger_entries_kind_community_at")

    op.drop_table("ledger_entries")
    with op.batch_alter_table("after_sale_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_after_sale_requests_order_state")

    op.drop_table("after_sale_requests")
    op.drop_table("shipments")
