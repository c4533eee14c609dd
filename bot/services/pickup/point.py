"""The pickup point (自提点) record the platform keeps for each community.

Set with `/setpoint key=value …` (or free text, kept as notes), or step by step. It travels in
queued notices as a plain dict, so a message says where to go even if it is sent later.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from typing import Any

from bot.services.kernel.errors import DomainError

# What /setpoint accepts, and how long each may be.
LIMITS = {
    "contact": 64,
    "phone": 32,
    "province": 64,
    "city": 64,
    "district": 64,
    "address": 256,
    "hours": 128,
    "route": 64,
    "region": 64,
    "notes": 1000,
}
# Chinese keys work too, as a Chinese-speaking leader would type them.
ALIASES = {
    "联系人": "contact",
    "团长": "contact",
    "电话": "phone",
    "省": "province",
    "省份": "province",
    "市": "city",
    "城市": "city",
    "区": "district",
    "区县": "district",
    "地址": "address",
    "营业时间": "hours",
    "时间": "hours",
    "线路": "route",
    "路线": "route",
    "区域": "region",
    "备注": "notes",
}
_PAIR = re.compile(r"([^\s=＝]+)\s*[=＝]\s*")


@dataclass(eq=False)
class BadPointField(DomainError):
    """An unknown key, or a value too long."""

    key: str
    limit: int | None  # None: the key is unknown


@dataclass(frozen=True)
class PickupPoint:
    contact: str | None = None
    phone: str | None = None
    province: str | None = None
    city: str | None = None
    district: str | None = None
    address: str | None = None
    hours: str | None = None
    route: str | None = None
    region: str | None = None
    notes: str | None = None

    @property
    def is_set(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def full_address(self) -> str:
        """Province, city, district and street, as one would write it on a parcel."""
        return " ".join(p for p in (self.province, self.city, self.district, self.address) if p)

    def as_payload(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value}

    @classmethod
    def from_payload(cls, payload: dict[str, Any] | str | None) -> PickupPoint:
        """From a notice's payload (older notices carried free text only)."""
        if isinstance(payload, str):
            return cls(notes=payload)
        if not payload:
            return cls()
        return cls(**{k: v for k, v in payload.items() if k in LIMITS})


def parse_fields(text: str) -> dict[str, str]:
    """`address=3 Gate Rd hours=8:00-20:00 phone=138…` → fields; text without `key=` is notes.

    A value runs until the next `key=`, so values may hold spaces.
    """
    matches = list(_PAIR.finditer(text))
    if not matches or matches[0].start() != 0:
        if len(text.strip()) > LIMITS["notes"]:
            raise BadPointField("notes", LIMITS["notes"])
        return {"notes": text.strip()}
    values: dict[str, str] = {}
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        raw = match.group(1).lower()
        key = ALIASES.get(raw, raw)
        if key not in LIMITS:
            raise BadPointField(raw, None)
        value = text[match.end() : following.start() if following else len(text)].strip()
        if len(value) > LIMITS[key]:
            raise BadPointField(key, LIMITS[key])
        values[key] = value
    return values
