"""The email channel: the twin reads the owner's mailbox over IMAP and answers over SMTP.

Reading: INBOX (contacts' mail, and the owner's mail to the twin) and the Sent folder
(what the owner wrote from their own mail client). Each folder's UIDVALIDITY and last
handled UID are kept in the store (`Checkpoints`), advanced only after the twin has
taken the mail, so nothing is missed or handled twice across restarts and reconnects.
New mail is awaited with IDLE where the server offers it, by polling otherwise; a lost
connection ends `wait_closed()` with an error and the supervisor connects again.

Writing: a reply goes to the sender only (Reply-To, else From), threaded under the
thread's last mail, signed, and a copy is appended to the Sent folder. The control chat
(when `TWIN_CONTROL_CHAT=email:<your address>`) is mail to the owner's own address:
what the twin tells the owner arrives as `[twin] ...` mails, and the owner's answers
count only when they provably come from the owner (see `_is_owners`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections import deque
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

import aioimaplib
import aiosmtplib

from bot.channels.base import EventHandler, SendError
from bot.channels.email import imap as imapx
from bot.channels.email.mail import (
    Mail,
    ThreadInfo,
    card_mail,
    control_text,
    fresh_chat,
    new_message_id,
    read_mail,
    reply_mail,
)
from bot.channels.email.settings import EmailSettings
from twin_core.aio import cancel_and_wait
from twin_core.memory.importers.mbox import MessageReader
from twin_core.types import (
    ChannelName,
    ChatId,
    ExternalId,
    HandleId,
    InboundEvent,
    OutboundMessage,
)

log = logging.getLogger("twin.channels.email")

EMAIL = ChannelName("email")
INBOX = "INBOX"
OWN_IDS_KEPT = 1000
UNVERIFIED = "unverified:"
KEY_LIMIT = 64


class Checkpoints(Protocol):
    """Small named values kept between runs (the store's `StateRepository`)."""

    def get(self, key: str, default: str = "") -> str: ...

    def set(self, key: str, value: str) -> None: ...


class EmailChannel:
    def __init__(
        self,
        config: EmailSettings,
        checkpoints: Checkpoints,
        *,
        owner_name: str = "",
        control_chat_id: str | None = None,
    ) -> None:
        self.name = EMAIL
        self.config = config
        self.checkpoints = checkpoints
        self.owner = config.address
        self.owner_name = owner_name
        self.control_chat_id = control_chat_id
        """The control chat's id when the owner's control chat is email (their address)."""
        self.signature = config.signature if config.signature is not None else owner_name
        self.reader = MessageReader(UTC)
        self.sent_folder = config.sent_folder
        self.idle_supported = False
        self._imap: aioimaplib.IMAP4 | None = None
        self._selected: str | None = None
        self._on_event: EventHandler | None = None
        self._task: asyncio.Task[None] | None = None
        self._lost: Exception | None = None
        self._stopping = False
        self._prefix = f"email:{_digest(self.owner)[:8]}:"
        self._own: deque[str] = deque(maxlen=OWN_IDS_KEPT)
        self._send_lock = asyncio.Lock()

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self, on_event: EventHandler) -> None:
        self._on_event = on_event
        self._stopping = False
        self._lost = None
        own = await self._get("own")
        self._own = deque(json.loads(own) if own else (), maxlen=OWN_IDS_KEPT)
        imap = await imapx.open_session(self.config, self._connection_lost)
        self._imap, self._selected = imap, None
        self.idle_supported = imap.has_capability("IDLE")
        if not self.sent_folder:
            self.sent_folder = await self._find_sent_folder(imap)
        # The first start begins at the mailbox's present: older mail is history
        # (`twin import` reads it), not something to answer now.
        for folder in (INBOX, self.sent_folder):
            await self._select(folder)
        self._task = asyncio.create_task(self._run(), name="email:imap")

    async def wait_closed(self) -> None:
        if self._task is None:
            return
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def stop(self) -> None:
        self._stopping = True
        self._on_event = None
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait(task)
        imap, self._imap = self._imap, None
        if imap is not None:
            await imapx.close_session(imap)

    def _connection_lost(self, exc: Exception | None) -> None:
        if self._stopping:
            return
        self._lost = exc or ConnectionError("the IMAP server closed the connection")
        imap = self._imap
        if imap is not None:
            # Wake an IDLE wait, which would otherwise sleep until its timeout.
            imap.protocol.idle_queue.put_nowait(aioimaplib.STOP_WAIT_SERVER_PUSH)

    # -- reading ------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            while not self._stopping:
                # Sent first: the owner's own copy of a mail to themselves proves it theirs.
                await self._sync(self.sent_folder)
                await self._sync(INBOX)
                await self._wait_for_mail()
        except TimeoutError:
            # A command the server never answered: the connection is gone, whether or
            # not the transport has said so yet (on a loaded machine it says so later).
            self._alive()
            raise ConnectionError("IMAP connection lost: the server stopped answering") from None

    def _alive(self) -> aioimaplib.IMAP4:
        if self._lost is not None:
            raise ConnectionError(f"IMAP connection lost: {self._lost}")
        if self._imap is None:
            raise ConnectionError("not connected")
        return self._imap

    async def _wait_for_mail(self) -> None:
        imap = self._alive()
        if not self.idle_supported:
            await asyncio.sleep(self.config.poll_s)
            imapx.check(await imap.noop(), "NOOP")
            return
        if self._selected != INBOX:
            await self._select(INBOX)
        idle = await imap.idle_start(timeout=self.config.poll_s)
        try:
            while imap.has_pending_idle():
                pushed = await imap.wait_server_push(timeout=self.config.poll_s + 5)
                self._alive()
                if pushed == aioimaplib.STOP_WAIT_SERVER_PUSH:
                    break
                if any(b"EXISTS" in bytes(line) for line in pushed):
                    break
        except TimeoutError:
            pass
        finally:
            if imap.has_pending_idle():
                imap.idle_done()
        await asyncio.wait_for(idle, self.config.timeout_s)  # a timeout: see `_run`
        self._alive()

    async def _select(self, folder: str) -> tuple[int, int]:
        """Select `folder`; returns its UIDVALIDITY and UIDNEXT, and makes sure it has a
        checkpoint (a new one starts at UIDNEXT - 1: only mail from now on)."""
        imap = self._alive()
        self._selected = None
        response = imapx.check(await imap.select(_quoted(folder)), f"SELECT {folder}")
        self._selected = folder
        validity = imapx.number(response, "UIDVALIDITY") or 0
        following = imapx.number(response, "UIDNEXT") or 0
        if not await self._get(f"folder:{folder}"):
            await self._checkpoint(folder, validity, max(0, following - 1))
        return validity, following

    async def _sync(self, folder: str) -> None:
        """Hand every mail of `folder` past its checkpoint to the twin, oldest first."""
        imap = self._alive()
        validity, following = await self._select(folder)
        mark = json.loads(await self._get(f"folder:{folder}"))
        if int(mark["validity"]) != validity:
            # The server renumbered the folder: look again at everything since the last
            # check (a day's margin); what was already taken is recorded and skipped.
            since = datetime.fromisoformat(mark["at"]) - timedelta(days=1)
            log.warning("%s: UIDVALIDITY changed; reading mail since %s again", folder, since)
            found = await imap.uid_search(f"SINCE {since.strftime('%d-%b-%Y')}")
            todo = imapx.uids(imapx.check(found, "UID SEARCH"))
            await self._checkpoint(folder, validity, 0)
        else:
            last = int(mark["uid"])
            if following and following <= last + 1:
                return
            found = await imap.uid_search(f"UID {last + 1}:*")
            todo = [u for u in imapx.uids(imapx.check(found, "UID SEARCH")) if u > last]
        for uid in todo:
            fetched = await imap.uid("fetch", str(uid), "(BODY.PEEK[])")
            data = imapx.literal(imapx.check(fetched, "UID FETCH"))
            if data is not None:
                await self._take(folder, data)
            await self._checkpoint(folder, validity, uid)

    async def _take(self, folder: str, data: bytes) -> None:
        mail = read_mail(
            data, self.reader, owner_address=self.owner, authserv_id=self.config.authserv_id
        )
        if mail is None:
            log.warning("%s: a mail that cannot be read was skipped", folder)
            return
        if mail.message_id in self._own:
            return  # the twin's own (a card coming back, or the copy in Sent)
        mail = await self._rooted(mail)
        in_sent = folder == self.sent_folder
        to_self = bool(mail.to) and all(address == self.owner for address in mail.to)
        if mail.sender == self.owner and to_self:
            await self._control(mail, in_sent)
            return
        if mail.sender == self.owner and not (in_sent or mail.owner_verified):
            # In the INBOX, from the owner's address, to others: the owner's copy (its
            # twin in Sent is the one recorded), or someone writing as the owner, which
            # is refused and audited like any unproven command.
            if not await self._is_owners(mail, in_sent):
                await self._control(mail, in_sent)
            return
        event = fresh_chat(mail.event, self.control_chat_id or "")
        if in_sent or mail.owner_verified:
            event = replace(event, from_owner=True, sender_id=HandleId(self.owner))
        elif not mail.automated:
            await self._remember_thread(event.chat_id, mail)
        if self._on_event is not None:
            await self._on_event(event)

    async def _rooted(self, mail: Mail) -> Mail:
        """`mail` in its thread across restarts: a reply that names only its parent
        (In-Reply-To, no References) joins the thread the parent was in, which the
        reader remembers only while the process lives."""
        event = mail.event
        if not mail.references and event.reply_to and str(event.chat_id) == event.reply_to:
            root = await self._get(f"root:{event.reply_to}")
            if root:
                mail = replace(mail, event=replace(event, chat_id=ChatId(root)))
        if not mail.automated:
            await self._set(f"root:{mail.message_id}", mail.event.chat_id)
        return mail

    async def _control(self, mail: Mail, in_sent: bool) -> None:
        """The owner's mail to their own address: the control chat, when it is on email.
        It counts as the owner's only when it provably is (`_is_owners`); otherwise it is
        handed on under an unverified identity, which the control chat refuses and audits."""
        if self.control_chat_id is None or self._on_event is None:
            return  # a note to self, and the control chat is elsewhere
        handled = json.loads(await self._get("control") or "[]")
        if mail.message_id in handled:
            return  # the same mail seen in both INBOX and Sent
        owners = await self._is_owners(mail, in_sent)
        if owners:
            await self._set("control", json.dumps([*handled, mail.message_id][-200:]))
        event = InboundEvent(
            channel=EMAIL,
            external_id=ExternalId(mail.message_id),
            chat_id=ChatId(self.control_chat_id),
            sender_id=HandleId(self.owner if owners else UNVERIFIED + self.owner),
            sender_name=mail.event.sender_name,
            text=control_text(mail),
            sent_at=mail.event.sent_at,
        )
        await self._on_event(event)

    async def _is_owners(self, mail: Mail, in_sent: bool) -> bool:
        """Mail from the owner's address is the owner's when it is in the Sent folder
        (only the owner's authenticated session puts mail there), or when the owner's
        own receiving server vouches for it (`Authentication-Results`, DKIM/DMARC
        pass). A From header alone proves nothing: anyone can write one."""
        if in_sent or mail.owner_verified:
            return True
        # The mail client files its copy in Sent just after sending: look there.
        for attempt in range(2):
            if await self._in_folder(self.sent_folder, mail.message_id):
                return True
            if attempt == 0:
                await asyncio.sleep(1.0)
        return False

    async def _in_folder(self, folder: str, message_id: str) -> bool:
        imap = self._alive()
        self._selected = None
        imapx.check(await imap.select(_quoted(folder)), f"SELECT {folder}")
        try:
            found = await imap.uid_search(f'HEADER Message-ID "<{message_id}>"', charset=None)
            return bool(imapx.uids(imapx.check(found, "UID SEARCH")))
        finally:
            imapx.check(await imap.select(INBOX), "SELECT INBOX")
            self._selected = INBOX

    # -- writing ------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> ExternalId:
        message_id = new_message_id(self.config.domain)
        if self.control_chat_id is not None and message.chat_id == self.control_chat_id:
            draft = message.data.get("id") if message.data else None
            mail = card_mail(
                message.text,
                owner=self.owner,
                owner_name=self.owner_name,
                message_id=message_id,
                draft=draft
                if isinstance(draft, int) and message.data and message.data.get("event") == "draft"
                else None,
            )
            await self._own_id(message_id)
            await self._smtp(mail, [self.owner])
            return ExternalId(message_id)
        raw = await self._get(f"thread:{message.chat_id}")
        if not raw:
            raise SendError(
                "no mail of this thread has come in since the twin began reading the "
                "mailbox, so it does not know whom to answer; reply from your mail client"
            )
        thread = ThreadInfo.from_json(json.loads(raw))
        mail = reply_mail(
            thread,
            message.text,
            sender=self.owner,
            sender_name=self.owner_name,
            signature=self.signature,
            message_id=message_id,
        )
        await self._own_id(message_id)
        await self._smtp(mail, [thread.reply_address])
        if self.config.save_sent:
            try:
                await self._append_sent(bytes(mail))
            except Exception as exc:  # the reply went out: that is what counts
                log.warning("the reply went out, but no copy reached %s: %s", self.sent_folder, exc)
        return ExternalId(message_id)

    async def _smtp(self, mail: object, recipients: list[str]) -> None:
        host, port = self.config.smtp
        token = await imapx.token_of(self.config)
        password = self.config.password.get_secret_value() if self.config.password else None
        try:
            await aiosmtplib.send(
                mail,  # type: ignore[arg-type]
                sender=self.owner,
                recipients=recipients,
                hostname=host,
                port=port,
                username=self.config.login if token is None and password else None,
                password=password if token is None else None,
                oauth_token_generator=(_token_generator(token) if token is not None else None),
                use_tls=self.config.security == "tls",
                start_tls=self.config.security == "starttls",
                timeout=self.config.timeout_s,
            )
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise SendError(f"the SMTP server {host} refused the login: {exc.message}") from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise SendError(f"the SMTP server {host}:{port} did not take the mail: {exc}") from None

    async def _append_sent(self, data: bytes) -> None:
        """A copy in the Sent folder, over a session of its own (the reader's is idling)."""
        async with self._send_lock:
            imap = await imapx.open_session(self.config)
            try:
                imapx.check(
                    await imap.append(data, mailbox=_quoted(self.sent_folder), flags="(\\Seen)"),
                    "APPEND",
                )
            finally:
                await imapx.close_session(imap)

    async def _find_sent_folder(self, imap: aioimaplib.IMAP4) -> str:
        listed = imapx.check(await imap.list('""', "*"), "LIST")
        marked = imapx.sent_folder_of(listed)
        if marked:
            return marked
        names = imapx.folder_names(listed)
        for name in ("Sent", "Sent Items", "Sent Messages", "INBOX.Sent"):
            if name in names:
                return name
        imapx.check(await imap.create("Sent"), "CREATE Sent")
        return "Sent"

    # -- what is kept -------------------------------------------------------------------

    async def _remember_thread(self, chat_id: str, mail: Mail) -> None:
        thread = ThreadInfo(mail.reply_address, mail.subject, mail.message_id, mail.references)
        await self._set(f"thread:{chat_id}", json.dumps(thread.as_json()))

    async def _own_id(self, message_id: str) -> None:
        self._own.append(message_id)
        await self._set("own", json.dumps(list(self._own)))

    async def _checkpoint(self, folder: str, validity: int, uid: int) -> None:
        value = {"validity": validity, "uid": uid, "at": datetime.now(UTC).isoformat()}
        await self._set(f"folder:{folder}", json.dumps(value))

    def _key(self, name: str) -> str:
        """The state key of `name` for this mailbox (keys hold 64 characters: a long
        one, such as a thread's Message-ID, is kept by its digest)."""
        key = self._prefix + name
        return key if len(key) <= KEY_LIMIT else f"{self._prefix}#{_digest(name)[:40]}"

    async def _get(self, key: str) -> str:
        return await asyncio.to_thread(self.checkpoints.get, self._key(key), "")

    async def _set(self, key: str, value: str) -> None:
        await asyncio.to_thread(self.checkpoints.set, self._key(key), value)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _quoted(folder: str) -> str:
    if folder.upper() == INBOX:
        return INBOX
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _token_generator(token: str) -> aiosmtplib.SMTPTokenGenerator:
    async def generate() -> str:
        return token

    return generate
