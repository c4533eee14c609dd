"""The pickup point (自提点) record the platform keeps for each community.

Set with `/setpoint key=value …` (or free text, kept as notes), or step by step. It travels in
queued notices as a plain dict, so a message says where to go even if it is sent later.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import asdict, dataclass, fields
from typing import Any

from bot.services.kernel.errors import BadInviteLink, BadLocation, DomainError

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
    "location": 64,  # "lat,lon": the pin, kept as numbers
    "link": 256,  # the group's invite link, given by the leader
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
    "位置": "location",
    "坐标": "location",
    "定位": "location",
    "链接": "link",
    "群链接": "link",
}
EARTH_RADIUS_KM = 6371.0088
_COORDINATES = re.compile(r"\s*(-?\d{1,3}(?:\.\d+)?)\s*[,\s]\s*(-?\d{1,3}(?:\.\d+)?)\s*")
_LINK = re.compile(r"(https://t\.me/|tg://)\S+")
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
        return cls(**{k: v for k, v in payload.items() if k in _FIELDS})


@dataclass(frozen=True)
class Location:
    lat: float
    lon: float

    @classmethod
    def checked(cls, lat: float, lon: float) -> Location | None:
        """A location on Earth, or None (latitude within ±90, longitude within ±180)."""
        if not (math.isfinite(lat) and math.isfinite(lon)):
            return None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return None
        return cls(lat, lon)

    @classmethod
    def parse(cls, text: str) -> Location | None:
        """ "31.2304,121.4737" (full-width digits and comma too); None if it is not one."""
        match = _COORDINATES.fullmatch(unicodedata.normalize("NFKC", text))
        if match is None:
            return None
        return cls.checked(float(match.group(1)), float(match.group(2)))


def distance_km(a: Location, b: Location) -> float:
    """The great-circle distance (haversine)."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat, dlon = lat2 - lat1, math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def invite_link(text: str) -> str | None:
    """A group's invite link as Telegram gives it (https://t.me/… or tg://…), or None."""
    link = text.strip()
    return link if len(link) <= LIMITS["link"] and _LINK.fullmatch(link) else None


_FIELDS = {f.name for f in fields(PickupPoint)}


def checked_value(key: str, given: str) -> str | Location | None:
    """A field's value as given, checked: None clears it ("" or "-"); a location is parsed.
    Raises the refusal that says what is wrong, whichever way the value came."""
    if key not in LIMITS:
        raise BadPointField(key, None)
    value = given.strip()
    if len(value) > LIMITS[key]:
        raise BadPointField(key, LIMITS[key])
    if value in {"", "-"}:
        return None
    if key == "location":
        where = Location.parse(value)
        if where is None:
            raise BadLocation(value)
        return where
    if key == "link" and invite_link(value) is None:
        raise BadInviteLink(value)
    return value


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
