"""Column helpers shared by the tables."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum


def state_type(enum: type[StrEnum]) -> Enum:
    """A state column stored as its short string value (no native enum, so adding a state later
    is a plain code change on both SQLite and PostgreSQL)."""
    return Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=16,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )
