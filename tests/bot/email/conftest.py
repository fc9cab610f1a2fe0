from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest

from bot.app import Twin
from bot.channels.email import EmailChannel
from tests.bot.email.servers import Dovecot, Mailbox, SmtpServer, start_dovecot
from twin_core.memory.embed import Embedder
from twin_core.settings import Settings, load_settings
from twin_core.types import ChannelName, ChatId, ExternalId, HandleId, InboundEvent

OWNER = "sam@example.test"


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """One dovecot for the session; each test takes a mailbox of its own. Missing
    dovecot fails (never skips): `.ci/run` installs it."""
    try:
        server = start_dovecot()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def mail(
    sender: str,
    to: str | list[str],
    subject: str,
    body: str,
    *,
    cc: list[str] | None = None,
    in_reply_to: str | None = None,
    **headers: str,
) -> EmailMessage:
    """A mail as a contact's (or the owner's) mail client writes it."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to if isinstance(to, str) else ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip(">"))
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


async def eventually(check: Callable[[], Any], timeout: float = 15.0, what: str = "") -> Any:
    """Poll `check` (sync; run in a thread) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        found = await asyncio.to_thread(check)
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.05)


def email_environ(box: Mailbox, smtp: SmtpServer, **extra: str) -> dict[str, str]:
    return {
        "TWIN_EMAIL_ADDRESS": OWNER,
        "TWIN_EMAIL_IMAP_HOST": "127.0.0.1",
        "TWIN_EMAIL_IMAP_PORT": str(box.port),
        "TWIN_EMAIL_SMTP_HOST": "127.0.0.1",
        "TWIN_EMAIL_SMTP_PORT": str(smtp.controller.port),
        "TWIN_EMAIL_USERNAME": box.user,
        "TWIN_EMAIL_PASSWORD": "secret",
        "TWIN_EMAIL_SECURITY": "none",
        "TWIN_EMAIL_POLL_S": "0.5",
        "TWIN_EMAIL_TIMEOUT_S": "5",
        **extra,
    }


@dataclass
class MailTwin:
    """A real Twin on the real email channel, built from settings alone."""

    box: Mailbox
    smtp: SmtpServer
    home: Path
    embedder: Embedder
    extra: dict[str, str] = field(default_factory=dict)
    twin: Twin | None = None

    def settings(self) -> Settings:
        return load_settings(
            email_environ(self.box, self.smtp, **self.extra),
            home=self.home,
            owner_name="Sam",
            channels=["email"],
            control_chat=f"email:{OWNER}",
            owner_handles={"email": [OWNER]},
            auto_send_delay_s=0.0,
            burst_window_s=0.0,
            index_gather_s=0.0,
            job_poll_s=0.2,
        )

    async def start(self) -> Twin:
        self.twin = Twin(self.settings(), embedder=self.embedder)
        await self.twin.start()
        return self.twin

    async def stop(self) -> None:
        if self.twin is not None:
            await self.twin.stop()
            self.twin = None

    @property
    def channel(self) -> EmailChannel:
        assert self.twin is not None
        channel = self.twin.services.channels["email"]
        assert isinstance(channel, EmailChannel)
        return channel

    def cards(self) -> list[EmailMessage]:
        """What the twin told the owner (mails to the owner's own address)."""
        return [s.mail for s in self.smtp.to(OWNER)]

    async def card(self, starting: str, timeout: float = 15.0) -> EmailMessage:
        def find() -> EmailMessage | None:
            return next((m for m in self.cards() if str(m["Subject"]).startswith(starting)), None)

        found: EmailMessage = await eventually(find, timeout, f"a card {starting!r}")
        return found

    def seed(self, address: str, name: str, turns: list[tuple[str, str]]) -> None:
        """An earlier email exchange with `address` ("me" marks the owner's turns), so
        the twin has the owner's way of writing to them."""
        assert self.twin is not None
        t0 = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
        events = [
            InboundEvent(
                channel=ChannelName("email"),
                external_id=ExternalId(f"seed-{address}-{n}@example.test"),
                chat_id=ChatId(f"seed-{address}@example.test"),
                sender_id=HandleId(OWNER if who == "me" else address),
                sender_name="Sam" if who == "me" else name,
                text=text,
                sent_at=t0 + timedelta(hours=n),
                from_owner=who == "me",
            )
            for n, (who, text) in enumerate(turns)
        ]
        self.twin.memory.record_many(events)
        self.twin.memory.index()

    async def smtp_send(self, message: EmailMessage) -> None:
        """Send `message` through the SMTP server, as any mail client would."""
        await aiosmtplib.send(
            message,
            hostname="127.0.0.1",
            port=self.smtp.controller.port,
            username="client",
            password="secret",
            start_tls=False,
        )

    async def settled(self) -> None:
        assert self.twin is not None
        await self.twin.idle()


MailTwinFactory = Callable[..., Awaitable[MailTwin]]


@pytest.fixture
async def mail_twin(
    dovecot: Dovecot, smtp: SmtpServer, tmp_path: Path, embedder: Embedder
) -> AsyncIterator[MailTwinFactory]:
    made: list[MailTwin] = []

    async def make(**extra: str) -> MailTwin:
        box = Mailbox(dovecot.port, dovecot.new_user())
        box.deliver(mail("setup@example.test", OWNER, "setup", "creates the mailbox"))
        smtp.mailboxes[OWNER] = box
        twin = MailTwin(box, smtp, tmp_path / f"home{len(made)}", embedder, extra)
        made.append(twin)
        await twin.start()
        return twin

    yield make
    for twin in made:
        try:
            await asyncio.wait_for(asyncio.shield(twin.stop()), 30)
        except TimeoutError:
            stuck = io.StringIO()
            for task in asyncio.all_tasks():
                task.print_stack(file=stuck)
            pytest.fail(f"the twin did not stop within 30 s; its tasks:\n{stuck.getvalue()}")
