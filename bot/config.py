"""Settings, read from the environment and an optional `.env` file.

Every setting of the chat contract lives here. A bad or missing value stops the bot at start
with one line naming the setting (see `describe_error`), never a traceback.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from models import DEFAULT_COMMISSION_RATE

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")

_TOKEN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,}$")
_ASYNC_DRIVERS = {"sqlite+aiosqlite", "postgresql+asyncpg"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr
    telegram_api_url: str = "https://api.telegram.org"
    database_url: str = "sqlite+aiosqlite:///./data/tuanbot.sqlite3"
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    default_language: Language = "zh"
    timezone: str = "Asia/Shanghai"
    currency: str = Field(default="¥", min_length=1, max_length=8)
    send_rate_global: float = Field(default=30, gt=0, le=10_000)
    send_rate_chat: float = Field(default=1, gt=0, le=10_000)
    send_rate_group: float = Field(default=20, gt=0, le=100_000)
    # New communities' leader commission, percent of what residents pay for what they pick up.
    commission_rate: float = Field(default=DEFAULT_COMMISSION_RATE / 100, ge=0, le=100)
    # Webhook mode (several instances behind a load balancer); unset: long polling.
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_host: str = "0.0.0.0"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    # Shared FSM state (dialogs) for several instances; unset: in memory.
    redis_url: str | None = None
    # /near: how far a resident is shown pickup points (kilometres).
    nearby_radius_km: float = Field(default=2, gt=0, le=100)
    # Payment in advance (Telegram Payments): the provider token from @BotFather; unset, and the
    # currency not Telegram Stars (XTR), residents pay at pickup.
    payment_provider_token: SecretStr | None = None
    payment_currency: str = "CNY"
    # Minutes an unpaid reservation holds (it lapses at the deadline too, whichever is first).
    pay_within: int = Field(default=15, ge=1, le=24 * 60)

    @property
    def payments_on(self) -> bool:
        """Whether a drop can be paid in advance (Stars need no provider token)."""
        return self.payment_provider_token is not None or self.payment_currency == "XTR"

    @field_validator("payment_provider_token")
    @classmethod
    def _provider_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if not re.fullmatch(r"[\x21-\x7e]{8,256}", value.get_secret_value().strip()):
            raise ValueError("must be the payment provider token @BotFather gave you")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("payment_currency")
    @classmethod
    def _payment_currency(cls, value: str) -> str:
        value = value.strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", value):
            raise ValueError("must be a three-letter ISO 4217 code such as CNY, or XTR for Stars")
        return value

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        if not _TOKEN.match(value.get_secret_value().strip()):
            raise ValueError("must look like 123456:ABC-DEF… (the token @BotFather gave you)")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("telegram_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL such as https://api.telegram.org")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            url = make_url(value.strip())
        except ArgumentError:
            raise ValueError("is not a database URL") from None
        if url.drivername not in _ASYNC_DRIVERS:
            raise ValueError(
                "must use an async driver: sqlite+aiosqlite:///path or "
                "postgresql+asyncpg://user@host/db"
            )
        return value.strip()

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _admin_ids(cls, value: object) -> frozenset[int]:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            if not all(re.fullmatch(r"-?\d+", part) for part in parts):
                raise ValueError("must be comma-separated Telegram user ids, e.g. 12345,67890")
            return frozenset(int(part) for part in parts)
        if isinstance(value, (set, frozenset, list, tuple)):
            return frozenset(int(part) for part in value)
        raise ValueError("must be comma-separated Telegram user ids")

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("is not a time zone name such as Asia/Shanghai") from None
        return value.strip()

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not re.match(r"^https?://[^/\s]+/?\S*$", value):
            raise ValueError("must be the public https URL Telegram posts updates to")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
            raise ValueError("may hold only A-Z, a-z, 0-9, _ and - (1 to 256 characters)")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not re.match(r"^rediss?://", value.strip()):
            raise ValueError("must look like redis://host:6379/0")
        return value.strip()

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError(
                "WEBHOOK_SECRET is required with WEBHOOK_URL (it proves a request came from Telegram)"
            )
        return self

    @property
    def webhook_path(self) -> str:
        """The path the instance serves the webhook at: that of WEBHOOK_URL."""
        assert self.webhook_url is not None
        path = urlsplit(self.webhook_url).path
        return path or "/"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def commission_basis_points(self) -> int:
        """`COMMISSION_RATE` (percent) as communities store it."""
        return round(self.commission_rate * 100)


def describe_error(error: ValidationError) -> str:
    """One line naming each bad setting, e.g. `BOT_TOKEN is required`."""
    problems = []
    for item in error.errors():
        name = str(item["loc"][0]).upper() if item["loc"] else ""
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "missing":
            problems.append(f"{name} is required")
        elif not name:  # a rule about several settings names them itself
            problems.append(message)
        else:
            problems.append(f"{name} {message}" if message[:1].islower() else f"{name}: {message}")
    return "configuration error: " + "; ".join(problems)
