"""The email channel (`TWIN_CHANNELS=["email"]`, `pip install 'twin[email]'`): the twin
reads the owner's mailbox over IMAP (aioimaplib) and answers over SMTP (aiosmtplib).
See `channel.py`, and docs/channels/email.md for the settings."""

from __future__ import annotations

import threading

from bot.channels.email.channel import EMAIL, Checkpoints, EmailChannel
from bot.channels.email.settings import EmailSettings
from twin_core.settings import Settings, load_section

__all__ = ["EMAIL", "Checkpoints", "EmailChannel", "EmailSettings", "doctor", "make_channel"]


class StoreCheckpoints:
    """The store's state table, opened on first use (the twin has migrated it by then)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._lock = threading.Lock()
        self._state: Checkpoints | None = None

    def _open(self) -> Checkpoints:
        with self._lock:
            if self._state is None:
                from twin_core.memory.db import Database
                from twin_core.memory.store.state import StateRepository

                self._state = StateRepository(Database.open(self.url))
            return self._state

    def get(self, key: str, default: str = "") -> str:
        return self._open().get(key, default)

    def set(self, key: str, value: str) -> None:
        self._open().set(key, value)


def make_channel(settings: Settings) -> EmailChannel:
    config = load_section(EmailSettings, settings)
    control = settings.control_chat_id if settings.control_channel == "email" else None
    return EmailChannel(
        config,
        StoreCheckpoints(settings.sqlalchemy_url),
        owner_name=settings.owner_name,
        control_chat_id=control,
    )


async def doctor(settings: Settings) -> list[str]:
    """Settings readable, the IMAP and SMTP logins accepted, IDLE offered."""
    import aiosmtplib

    from bot.channels.email import imap as imapx
    from bot.channels.email.channel import INBOX

    try:
        config = load_section(EmailSettings, settings)
    except Exception as exc:
        return [str(exc)]
    problems: list[str] = []
    if settings.control_channel == "email" and settings.control_chat_id != config.address:
        problems.append(
            f"TWIN_CONTROL_CHAT is email:{settings.control_chat_id}, but the control chat by "
            f"email is your own address: email:{config.address}"
        )
    try:
        session = await imapx.open_session(config)
        try:
            imapx.check(await session.select(INBOX), "SELECT INBOX")
            if not session.has_capability("IDLE"):
                problems.append(
                    f"the IMAP server has no IDLE: new mail is seen every {config.poll_s:.0f} s"
                )
        finally:
            await imapx.close_session(session)
    except Exception as exc:
        problems.append(f"IMAP {config.imap[0]}:{config.imap[1]}: {type(exc).__name__}: {exc}")
    host, port = config.smtp
    smtp = aiosmtplib.SMTP(
        hostname=host,
        port=port,
        use_tls=config.security == "tls",
        start_tls=config.security == "starttls",
        timeout=config.timeout_s,
    )
    try:
        await smtp.connect()
        token = await imapx.token_of(config)
        if token is not None:
            await smtp.auth_xoauth2(config.login, token)
        elif config.password is not None:
            await smtp.login(config.login, config.password.get_secret_value())
        await smtp.quit()
    except Exception as exc:
        problems.append(f"SMTP {host}:{port}: {type(exc).__name__}: {exc}")
    return problems
