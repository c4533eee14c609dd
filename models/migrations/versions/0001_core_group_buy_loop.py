"""core group-buy loop

Revision ID: 0001
Revises:
Create Date: 2026-11-23 19:52:16.546350
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("admin_id", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("reported_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasts")),
    )
    op.create_table(
        "drops",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column(
            "state",
            sa.Enum("draft", "published", name="dropstate", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("deadline_spec", sa.String(length=16), nullable=False),
        sa.Column("pickup_spec", sa.String(length=16), nullable=True),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("source_text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drops")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("first_name", sa.String(length=128), nullable=False),
        sa.Column("last_name", sa.String(length=128), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("tg_language", sa.String(length=16), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("unreachable_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_table(
        "communities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("leader_id", sa.BigInteger(), nullable=True),
        sa.Column("pickup_point", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("registered_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["leader_id"], ["users.id"], name=op.f("fk_communities_leader_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_communities")),
        sa.UniqueConstraint("chat_id", name=op.f("uq_communities_chat_id")),
    )
    op.create_table(
        "drop_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("drop_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=True),
        sa.Column("price", sa.Integer(), nullable=False),
        sa.Column("min_members", sa.Integer(), nullable=False),
        sa.Column("purchase_limit", sa.Integer(), nullable=True),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("stock_left", sa.Integer(), nullable=True),
        sa.Column("returnable", sa.Boolean(), nullable=False),
        sa.Column("earns_points", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["drop_id"], ["drops.id"], name=op.f("fk_drop_items_drop_id_drops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drop_items")),
        sa.UniqueConstraint("drop_id", "position", name=op.f("uq_drop_items_drop_id_position")),
    )
    with op.batch_alter_table("drop_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drop_items_drop_id"), ["drop_id"], unique=False)

    op.create_table(
        "drop_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("drop_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum("scheduled", "posted", name="poststate", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("post_at", sa.DateTime(), nullable=False),
        sa.Column("posted_at", sa.DateTime(), nullable=True),
        sa.Column("message_ids", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_drop_posts_community_id_communities"),
        ),
        sa.ForeignKeyConstraint(
            ["drop_id"], ["drops.id"], name=op.f("fk_drop_posts_drop_id_drops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drop_posts")),
        sa.UniqueConstraint(
            "drop_id", "community_id", name=op.f("uq_drop_posts_drop_id_community_id")
        ),
    )
    with op.batch_alter_table("drop_posts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_drop_posts_community_id"), ["community_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_drop_posts_post_at"), ["post_at"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("broadcast_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=160), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "blocked",
                "sent",
                "failed",
                name="outboxstate",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("message_ids", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["broadcast_id"], ["broadcasts.id"], name=op.f("fk_outbox_broadcast_id_broadcasts")
        ),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_outbox_community_id_communities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_dedupe_key")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_broadcast_id"), ["broadcast_id"], unique=False)
        batch_op.create_index(
            "ix_outbox_due", ["state", "priority", "next_attempt_at"], unique=False
        )
        batch_op.create_index("ix_outbox_user_state", ["user_id", "state"], unique=False)

    op.create_table(
        "pickup_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=7), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("pickup_date", sa.Date(), nullable=False),
        sa.Column(
            "state",
            sa.Enum("active", "used", name="codestate", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_pickup_codes_community_id_communities"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_pickup_codes_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pickup_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_pickup_codes_code")),
        sa.UniqueConstraint(
            "user_id",
            "community_id",
            "pickup_date",
            name=op.f("uq_pickup_codes_user_id_community_id_pickup_date"),
        ),
    )
    with op.batch_alter_table("pickup_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pickup_codes_community_id"), ["community_id"], unique=False
        )

    op.create_table(
        "group_buys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("drop_post_id", sa.Integer(), nullable=False),
        sa.Column("drop_item_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "scheduled",
                "open",
                "formed",
                "failed",
                "arrived",
                name="groupbuystate",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("deadline", sa.DateTime(), nullable=True),
        sa.Column("pickup_date", sa.Date(), nullable=True),
        sa.Column("unit_price", sa.Integer(), nullable=False),
        sa.Column("min_members", sa.Integer(), nullable=False),
        sa.Column("purchase_limit", sa.Integer(), nullable=True),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("arrived_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_group_buys_community_id_communities"),
        ),
        sa.ForeignKeyConstraint(
            ["drop_item_id"], ["drop_items.id"], name=op.f("fk_group_buys_drop_item_id_drop_items")
        ),
        sa.ForeignKeyConstraint(
            ["drop_post_id"], ["drop_posts.id"], name=op.f("fk_group_buys_drop_post_id_drop_posts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_buys")),
    )
    with op.batch_alter_table("group_buys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_group_buys_drop_item_id"), ["drop_item_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_group_buys_drop_post_id"), ["drop_post_id"], unique=False
        )
        batch_op.create_index("ix_group_buys_state_deadline", ["state", "deadline"], unique=False)
        batch_op.create_index(
            "uq_group_buys_live_number",
            ["community_id", "number"],
            unique=True,
            sqlite_where=sa.text("state IN ('open', 'formed')"),
            postgresql_where=sa.text("state IN ('open', 'formed')"),
        )

    op.create_table(
        "handovers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pickup_code_id", sa.Integer(), nullable=False),
        sa.Column("handed_by", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("undone_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["pickup_code_id"],
            ["pickup_codes.id"],
            name=op.f("fk_handovers_pickup_code_id_pickup_codes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handovers")),
    )
    with op.batch_alter_table("handovers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_handovers_pickup_code_id"), ["pickup_code_id"], unique=False
        )

    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_buy_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "joined",
                "cancelled",
                "confirmed",
                "failed",
                "ready",
                "picked_up",
                "short",
                "returned",
                name="orderstate",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("pickup_code_id", sa.Integer(), nullable=True),
        sa.Column("handover_id", sa.Integer(), nullable=True),
        sa.Column("joined_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("picked_up_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_buy_id"], ["group_buys.id"], name=op.f("fk_orders_group_buy_id_group_buys")
        ),
        sa.ForeignKeyConstraint(
            ["handover_id"], ["handovers.id"], name=op.f("fk_orders_handover_id_handovers")
        ),
        sa.ForeignKeyConstraint(
            ["pickup_code_id"],
            ["pickup_codes.id"],
            name=op.f("fk_orders_pickup_code_id_pickup_codes"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_orders_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("group_buy_id", "user_id", name=op.f("uq_orders_group_buy_id_user_id")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_group_buy_state", ["group_buy_id", "state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_orders_pickup_code_id"), ["pickup_code_id"], unique=False
        )
        batch_op.create_index("ix_orders_user_state", ["user_id", "state"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_user_state")
        batch_op.drop_index(batch_op.f("ix_orders_pickup_code_id"))
        batch_op.drop_index("ix_orders_group_buy_state")

    op.drop_table("orders")
    with op.batch_alter_table("handovers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handovers_pickup_code_id"))

    op.drop_table("handovers")
    with op.batch_alter_table("group_buys", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_group_buys_live_number",
            sqlite_where=sa.text("state IN ('open', 'formed')"),
            postgresql_where=sa.text("state IN ('open', 'formed')"),
        )
        batch_op.drop_index("ix_group_buys_state_deadline")
        batch_op.drop_index(batch_op.f("ix_group_buys_drop_post_id"))
        batch_op.drop_index(batch_op.f("ix_group_buys_drop_item_id"))

    op.drop_table("group_buys")
    with op.batch_alter_table("pickup_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pickup_codes_community_id"))

    op.drop_table("pickup_codes")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_user_state")
        batch_op.drop_index("ix_outbox_due")
        batch_op.drop_index(batch_op.f("ix_outbox_broadcast_id"))

    op.drop_table("outbox")
    with op.batch_alter_table("drop_posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drop_posts_post_at"))
        batch_op.drop_index(batch_op.f("ix_drop_posts_community_id"))

    op.drop_table("drop_posts")
    with op.batch_alter_table("drop_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drop_items_drop_id"))

    op.drop_table("drop_items")
    op.drop_table("communities")
    op.drop_table("users")
    op.drop_table("drops")
    op.drop_table("broadcasts")
