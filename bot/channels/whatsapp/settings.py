"""The WhatsApp channel's own settings (`TWIN_WHATSAPP_*`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from twin_core.settings import Section, Settings


class WhatsAppSettings(Section):
    model_config = SettingsConfigDict(env_prefix="TWIN_WHATSAPP_", frozen=True, extra="ignore")

    session: Path | None = None
    """The linked device's session (keys, contacts): a SQLite file neonize keeps.
    Default: `whatsapp/session.sqlite3` in TWIN_HOME. Whoever holds it can read and
    send as the owner: keep it as private as the account."""
    phone: str | None = None
    """The owner's number in international form (`+351912345678`): `twin pair whatsapp`
    then shows an 8-character code to type on the phone instead of a QR code."""
    pair_timeout_s: Annotated[float, Field(gt=0, le=3600)] = 180.0
    """How long `twin pair whatsapp` waits for the phone to link."""
    connect_timeout_s: Annotated[float, Field(gt=0, le=600)] = 60.0

    # The sending budget (ban protection). See docs/channels/whatsapp.md.
    per_minute: Annotated[int, Field(ge=1, le=60)] = 6
    """At most this many messages to contacts in any 60 seconds."""
    per_hour: Annotated[int, Field(ge=1, le=1000)] = 60
    """At most this many messages to contacts in any hour."""
    new_chats_per_day: Annotated[int, Field(ge=0, le=50)] = 3
    """At most this many messages a day to chats that never wrote to this account
    and were never written to by the twin (0: the twin never starts a chat)."""
    max_wait_s: Annotated[float, Field(ge=0, le=3600)] = 120.0
    """A message that would have to wait longer than this for the budget is held for
    later (its draft stays approved and a job sends it when the budget frees up) rather
    than block the sender."""
    gap_s: Annotated[float, Field(ge=0, le=600)] = 3.0
    """The least time between two messages to contacts; each gap is lengthened at random
    (up to `jitter` of it again) so sends do not come at machine-regular intervals."""
    jitter: Annotated[float, Field(ge=0, le=5)] = 1.0
    typing_chars_per_s: Annotated[float, Field(gt=0, le=100)] = 8.0
    """Typing presence is shown for about as long as a person takes to type the text
    at this speed (within `typing_min_s` and `typing_max_s`), jittered."""
    typing_min_s: Annotated[float, Field(ge=0, le=60)] = 1.0
    typing_max_s: Annotated[float, Field(ge=0, le=120)] = 8.0

    @field_validator("phone")
    @classmethod
    def _phone_number(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        digits = "".join(c for c in value if c.isdigit())
        if not 8 <= len(digits) <= 15 or any(c not in "+0123456789 -()." for c in value):
            raise ValueError(
                "is not a phone number; write it in international form, e.g. +351912345678"
            )
        return digits

    @model_validator(mode="after")
    def _typing_range(self) -> WhatsAppSettings:
        if self.typing_min_s > self.typing_max_s:
            raise ValueError(
                "TWIN_WHATSAPP_TYPING_MIN_S is above TWIN_WHATSAPP_TYPING_MAX_S; "
                "make the minimum the smaller one"
            )
        return self

    def session_path(self, settings: Settings) -> Path:
        return self.session or settings.home / "whatsapp" / "session.sqlite3"
