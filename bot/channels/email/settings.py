"""The email channel's settings (`TWIN_EMAIL_*`), kept next to its code."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from twin_core.settings import PLACEHOLDER_SECRETS, Section

Security = Literal["tls", "starttls", "none"]

DEFAULT_PORTS: dict[str, tuple[int, int]] = {
    # security: (IMAP, SMTP)
    "tls": (993, 465),
    "starttls": (143, 587),
    "none": (143, 25),
}


class EmailSettings(Section):
    model_config = SettingsConfigDict(env_prefix="TWIN_EMAIL_", extra="ignore", frozen=True)

    address: str
    """The owner's address: the mailbox the twin reads, and the From of what it sends."""
    imap_host: str
    imap_port: Annotated[int, Field(gt=0, lt=65536)] | None = None
    """Default: 993 with `tls`, 143 otherwise."""
    smtp_host: str
    smtp_port: Annotated[int, Field(gt=0, lt=65536)] | None = None
    """Default: 465 with `tls`, 587 with `starttls`, 25 with `none`."""
    username: str = ""
    """The login; default: the address."""
    password: SecretStr | None = None
    """The account's password, or better an app password (Gmail, Outlook)."""
    oauth2_token: SecretStr | None = None
    """An OAuth2 access token, sent as XOAUTH2 instead of the password."""
    oauth2_token_command: str = ""
    """A command printing a fresh OAuth2 access token (run before each login), e.g.
    `oama access you@gmail.com`: access tokens last an hour."""
    security: Security = "tls"
    """`tls` (implicit TLS), `starttls`, or `none` (only for a server on 127.0.0.1)."""
    sent_folder: str = ""
    """Where copies of sent mail go and where the owner's own mail is read; default: the
    folder the server marks `\\Sent`, else `Sent`."""
    save_sent: bool = True
    """Append a copy of each sent mail to the Sent folder. Gmail files mail sent over
    SMTP there by itself: set false for Gmail, or each reply shows twice."""
    signature: str | None = None
    """Put under each reply after `-- `; default: the owner's name (`TWIN_OWNER_NAME`)."""
    authserv_id: str = ""
    """The id your provider's receiving server writes first in `Authentication-Results`
    (Gmail: `mx.google.com`; see docs/channels/email.md). When set, mail from your own
    address that passed DKIM or DMARC there counts as yours; when unset, only mail your
    mail client filed in the Sent folder does."""
    poll_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    """How often the mailbox is checked where the server has no IDLE, and the Sent
    folder everywhere."""
    timeout_s: Annotated[float, Field(gt=0, le=600)] = 30.0
    """How long one IMAP or SMTP command may take before the connection counts as lost."""

    @field_validator("address")
    @classmethod
    def _an_address(cls, value: str) -> str:
        value = value.strip()
        local, at, domain = value.rpartition("@")
        if not at or not local or "." not in domain or any(c.isspace() for c in value):
            raise ValueError("is not an email address, e.g. you@example.com")
        return value.lower()

    @field_validator("password", "oauth2_token")
    @classmethod
    def _no_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError("is still a placeholder; put the real value or unset it")
        return value

    @model_validator(mode="after")
    def _usable(self) -> EmailSettings:
        if self.password is None and self.oauth2_token is None and not self.oauth2_token_command:
            raise ValueError(
                "no credentials: set TWIN_EMAIL_PASSWORD (an app password) or "
                "TWIN_EMAIL_OAUTH2_TOKEN / TWIN_EMAIL_OAUTH2_TOKEN_COMMAND"
            )
        if self.security == "none":
            for name, host in (("IMAP", self.imap_host), ("SMTP", self.smtp_host)):
                if not is_loopback(host):
                    raise ValueError(
                        f"TWIN_EMAIL_SECURITY=none sends your password in clear, so it is "
                        f"accepted only for a server on 127.0.0.1; the {name} host is {host!r}: "
                        "use tls or starttls"
                    )
        return self

    @property
    def login(self) -> str:
        return self.username or self.address

    @property
    def imap(self) -> tuple[str, int]:
        return self.imap_host, self.imap_port or DEFAULT_PORTS[self.security][0]

    @property
    def smtp(self) -> tuple[str, int]:
        return self.smtp_host, self.smtp_port or DEFAULT_PORTS[self.security][1]

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]


def is_loopback(host: str) -> bool:
    """A literal loopback address (127.0.0.1, ::1); a name is never trusted to be one."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
