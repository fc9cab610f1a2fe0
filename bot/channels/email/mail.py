"""One mail, read and written: pure functions, no connection.

Reading reuses the mbox importer's `MessageReader` (threads by Message-ID / In-Reply-To
/ References, quoted history and signatures cut, HTML as text), so a live mail lands in
the same conversation as the same thread imported from an export. On top of it, what
only a live mailbox needs: who may answer it (`automated`), whether mail from the
owner's own address really is the owner's (`authenticated_owner`), and the reply.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import format_datetime, formataddr, getaddresses, parseaddr

from twin_core.memory.importers.mbox import MessageReader, header_text
from twin_core.types import ChatId, InboundEvent, MessageKind

__all__ = [
    "Mail",
    "ThreadInfo",
    "authenticated_owner",
    "automated",
    "card_mail",
    "control_text",
    "fresh_chat",
    "new_message_id",
    "read_mail",
    "reply_mail",
]

_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
_NO_REPLY = re.compile(
    r"^(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|donotreply|mailer-daemon|postmaster|bounces?"
    r"|notifications?|newsletters?|news|info|marketing|alerts?|automailer)(?:[-+_.].*)?$",
    re.IGNORECASE,
)
_DRAFT_SUBJECT = re.compile(r"\[twin\] Draft (\d+)\b", re.IGNORECASE)
CARD_PREFIX = "[twin]"


@dataclass(frozen=True, slots=True)
class Mail:
    """A fetched mail: the event it stands for, and the headers a reply needs."""

    event: InboundEvent
    message_id: str
    sender: str
    """The From address, lower case."""
    reply_address: str
    """Where an answer goes: the sender's From address, and no one else."""
    to: tuple[str, ...]
    subject: str
    references: tuple[str, ...]
    automated: str
    """Why no one should answer it (a newsletter, a no-reply sender, bulk), or ""."""
    owner_verified: bool
    """From the owner's address and passed the trusted server's DKIM/DMARC check."""


@dataclass(frozen=True, slots=True)
class ThreadInfo:
    """What replying in a thread needs: kept per conversation, from its last mail."""

    reply_address: str
    subject: str
    message_id: str
    references: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "to": self.reply_address,
            "subject": self.subject,
            "id": self.message_id,
            "refs": list(self.references),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> ThreadInfo:
        refs = data.get("refs")
        return cls(
            str(data["to"]),
            str(data.get("subject", "")),
            str(data["id"]),
            tuple(str(r) for r in refs) if isinstance(refs, list) else (),
        )


def read_mail(
    data: bytes, reader: MessageReader, *, owner_address: str, authserv_id: str = ""
) -> Mail | None:
    """`data` (a whole RFC 5322 message) as a `Mail`; None when it cannot be read."""
    event = next(
        (item for item in reader.read(data, None, 1, "imap") if isinstance(item, InboundEvent)),
        None,
    )
    if event is None:
        return None
    message = BytesParser(policy=compat32).parsebytes(data, headersonly=True)
    sender = parseaddr(header_text(message.get("From")))[1].strip().lower()
    to = tuple(
        address.lower()
        for _, address in getaddresses([header_text(v) for v in message.get_all("To", [])])
        if address
    )
    reason = automated(message, sender)
    if reason:
        event = replace(event, kind=MessageKind.AUTOMATED)
    return Mail(
        event=event,
        message_id=str(event.external_id),
        sender=sender,
        # Never the Reply-To: anyone forging Alice's From could point it at themselves
        # and read what the owner meant for her.
        reply_address=sender,
        to=to,
        subject=header_text(message.get("Subject")),
        references=tuple(_MESSAGE_ID.findall(header_text(message.get("References")))),
        automated=reason,
        owner_verified=sender == owner_address
        and authenticated_owner(message, owner_address, authserv_id),
    )


def automated(message: Message, sender: str) -> str:
    """Why `message` was sent by a machine or to many (never to be answered), or ""."""
    precedence = header_text(message.get("Precedence")).lower()
    auto_submitted = header_text(message.get("Auto-Submitted")).lower()
    if message.get("List-Unsubscribe") is not None:
        return "a newsletter or mailing list (List-Unsubscribe)"
    if message.get("List-Id") is not None:
        return "a mailing list (List-Id)"
    if precedence in ("bulk", "list", "junk"):
        return f"bulk mail (Precedence: {precedence})"
    if auto_submitted and auto_submitted != "no":
        return f"sent automatically (Auto-Submitted: {auto_submitted})"
    if message.get("X-Autoreply") is not None or message.get("X-Autorespond") is not None:
        return "an automatic reply"
    if _NO_REPLY.match(sender.partition("@")[0]):
        return f"from a no-reply or notification address ({sender})"
    if not sender:
        return "no sender address"
    return ""


def authenticated_owner(message: Message, owner_address: str, authserv_id: str) -> bool:
    """Whether the owner's own receiving server (`authserv_id`) vouches that `message`
    came from the owner's domain: DKIM or DMARC passed for it. Only the topmost
    `Authentication-Results` counts, and only with that id: a sender can write any
    number of such headers below it, the receiving server writes (and replaces) its
    own at the top."""
    if not authserv_id:
        return False
    results = message.get_all("Authentication-Results") or []
    if not results:
        return False
    top = " ".join(header_text(results[0]).split())
    server, _, rest = top.partition(";")
    if server.split()[:1] != [authserv_id]:
        return False
    domain = owner_address.rpartition("@")[2].lower()
    for clause in rest.split(";"):
        words = clause.strip().lower().split()
        if not words:
            continue
        method = words[0]
        props = {k: v for k, _, v in (w.partition("=") for w in words[1:]) if _}
        if method == "dmarc=pass" and props.get("header.from", "").strip("@") == domain:
            return True
        if method == "dkim=pass":
            signer = props.get("header.d") or props.get("header.i", "").rpartition("@")[2]
            if signer == domain:
                return True
    return False


def control_text(mail: Mail) -> str:
    """What the owner's mail to the twin says, as a control-chat message: an answer to
    a draft card (`approve`, `reject`, or the text to send instead) becomes
    `/approve N`, `/reject N` or `/edit N <text>`; anything else is passed as written."""
    text = mail.event.text.strip()
    draft = _DRAFT_SUBJECT.search(mail.subject)
    if draft is None or text.startswith("/"):
        return text
    number = draft.group(1)
    word = text.split("\n", 1)[0].strip().rstrip(".!").lower()
    if word in ("approve", "approved", "yes", "ok", "send", "send it"):
        return f"/approve {number}"
    if word in ("reject", "rejected", "no", "don't send", "dont send", "cancel"):
        return f"/reject {number}"
    return f"/edit {number} {text}"


def new_message_id(domain: str) -> str:
    """A fresh Message-ID (without its angle brackets) on the owner's domain."""
    return f"twin.{uuid.uuid4().hex}@{domain}"


def reply_mail(
    thread: ThreadInfo,
    text: str,
    *,
    sender: str,
    sender_name: str,
    signature: str,
    message_id: str,
    now: datetime | None = None,
) -> EmailMessage:
    """The reply to `thread`'s last mail, to its sender only, threaded under it."""
    subject = thread.subject.strip()
    if not re.match(r"(?i)re\s*:", subject):
        subject = f"Re: {subject}" if subject else "Re:"
    mail = _base(sender, sender_name, message_id, now)
    mail["To"] = thread.reply_address
    mail["Subject"] = subject
    mail["In-Reply-To"] = f"<{thread.message_id}>"
    references = [*thread.references, thread.message_id]
    mail["References"] = " ".join(f"<{r}>" for r in dict.fromkeys(references))
    body = text.rstrip("\n")
    if signature.strip():
        body += "\n\n-- \n" + signature.strip("\n")
    mail.set_content(body + "\n")
    return mail


def card_mail(
    text: str, *, owner: str, owner_name: str, message_id: str, draft: int | None
) -> EmailMessage:
    """A control-chat message as a mail to the owner's own address. Its subject is its
    first line (`[twin] Draft 12 for Alice`), so an answer to a draft card names it."""
    first = next((line.strip() for line in text.split("\n") if line.strip()), "note")
    subject = f"{CARD_PREFIX} {first.split(' (confidence')[0]}"
    if draft is not None:
        text += "\n\nAnswer this mail with 'approve', 'reject', or the text to send instead."
    mail = _base(owner, owner_name, message_id, None)
    mail["To"] = owner
    mail["Subject"] = " ".join(subject.split())[:150]
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(text + "\n")
    return mail


def _base(sender: str, sender_name: str, message_id: str, now: datetime | None) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = formataddr((sender_name, sender)) if sender_name else sender
    mail["Date"] = format_datetime(now or datetime.now(UTC))
    mail["Message-ID"] = f"<{message_id}>"
    return mail


def fresh_chat(event: InboundEvent, reserved: str) -> InboundEvent:
    """`event` moved out of the conversation id `reserved` (the control chat's), which
    a mail's own Message-ID or References could otherwise name."""
    if event.chat_id != reserved:
        return event
    return replace(event, chat_id=ChatId(f"mail:{event.external_id}"))
