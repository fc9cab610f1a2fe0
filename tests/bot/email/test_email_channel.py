"""The email channel against a real IMAP server (dovecot) and a real SMTP server
(aiosmtpd), driven through a real Twin built from settings alone."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.bot.email.conftest import (
    OWNER,
    MailTwinFactory,
    email_environ,
    eventually,
    mail,
)
from tests.bot.email.servers import Dovecot, Mailbox, SmtpServer
from tests.support.settings import REPO
from twin_core.settings import load_settings
from twin_core.types import DraftId

ALICE = "alice@example.test"
ALICE_BEFORE = [
    ("Alice", "Are you free for lunch tomorrow?"),
    ("me", "yes! 1pm at the usual place"),
    ("Alice", "Want to come to dinner on Saturday?"),
    ("me", "yes! 7pm works, see you there"),
]


def approve(card: EmailMessage, answer: str) -> EmailMessage:
    """The owner's answer to a card, as their mail client writes it: quoting the card
    under their text, signed."""
    quoted = "\n".join("> " + line for line in card.get_content().splitlines())
    body = f"{answer}\n\nOn Tue, 1 Dec 2026 at 10:00, Sam <{OWNER}> wrote:\n{quoted}\n-- \nSam\n"
    return mail(OWNER, OWNER, f"Re: {card['Subject']}", body, in_reply_to=card["Message-ID"])


async def test_a_mail_is_drafted_approved_and_answered_in_its_thread(
    mail_twin: MailTwinFactory,
) -> None:
    t = await mail_twin()
    t.seed(ALICE, "Alice", ALICE_BEFORE)
    incoming = mail(
        f"Alice <{ALICE}>",
        OWNER,
        "Dinner on Friday?",
        "Sam, are you free for dinner on Friday?\n\n-- \nAlice\nSent from my phone",
        cc=["bob@example.test"],
    )
    t.box.deliver(incoming)
    card = await t.card("[twin] Draft 1 for Alice")
    assert card["To"] == OWNER
    assert "Sam, are you free for dinner on Friday?" in card.get_content()
    assert "Sent from my phone" not in card.get_content()  # the signature is not the message

    # The owner answers from their phone: the client files the mail in Sent, and it
    # arrives in the INBOX as well; it is handled once.
    answer = approve(card, "approve")
    t.box.deliver(answer, "Sent")
    t.box.deliver(answer)
    replies = await eventually(lambda: t.smtp.to(ALICE), what="the reply to Alice")
    await t.settled()
    assert len(replies) == 1
    reply = replies[0]
    assert reply.recipients == [ALICE]  # the sender only, never Bob in Cc
    sent = reply.mail
    assert sent["To"] == ALICE and sent["Cc"] is None
    assert sent["Subject"] == "Re: Dinner on Friday?"
    assert sent["In-Reply-To"] == incoming["Message-ID"]
    assert incoming["Message-ID"] in sent["References"]
    body = sent.get_content().replace("\r\n", "\n")
    assert body.rstrip().endswith("\n-- \nSam")
    store = t.twin.store  # type: ignore[union-attr]
    draft = await eventually(
        lambda: (d := store.drafts.get(DraftId(1))) is not None and d.status == "sent" and d,
        what="the draft marked sent",
    )
    assert body.startswith(draft.text)

    copies = await eventually(
        lambda: [m for m in t.box.messages("Sent") if m["Message-ID"] == sent["Message-ID"]],
        what="the copy in Sent",
    )
    assert len(copies) == 1
    # The copy in Sent is the twin's own: not read back as the owner writing again.
    await t.settled()
    messages = t.twin.store.messages  # type: ignore[union-attr]
    assert messages.count() == len(ALICE_BEFORE) + 2  # her mail and the reply, each once
    # The twin's own cards came back into the INBOX: never taken as commands.
    assert not [c for c in t.cards() if "Unknown command" in c.get_content()]
    assert not [c for c in t.cards() if "Refused" in c.get_content()]


async def test_a_restart_reads_on_where_it_stopped_and_handles_nothing_twice(
    mail_twin: MailTwinFactory,
) -> None:
    t = await mail_twin()
    t.seed(ALICE, "Alice", ALICE_BEFORE)
    first = mail(f"Alice <{ALICE}>", OWNER, "Lunch", "Lunch tomorrow?")
    t.box.deliver(first)
    await t.card("[twin] Draft 1 for Alice")
    await t.settled()
    await t.stop()

    # Mail that arrives while the twin is down is read when it is back; what it had
    # read before is not read again. This one names only its parent (no References),
    # and still joins its thread.
    second = mail(f"Alice <{ALICE}>", OWNER, "Re: Lunch", "And cinema on Sunday?")
    second["In-Reply-To"] = first["Message-ID"]
    t.box.deliver(second)
    await t.start()
    await t.card("[twin] Draft 2 for Alice")
    await t.settled()
    store = t.twin.store  # type: ignore[union-attr]
    texts = [m.text for m in store.messages.iter_after(0)]
    assert texts.count("Lunch tomorrow?") == 1
    assert texts.count("And cinema on Sunday?") == 1
    drafts = [str(c["Subject"]) for c in t.cards() if str(c["Subject"]).startswith("[twin] D")]
    # Draft 1 is replaced by draft 2: she wrote again in the same thread.
    assert drafts == [
        "[twin] Draft 1 for Alice",
        "[twin] Draft 1 for Alice is replaced: they wrote again.",
        "[twin] Draft 2 for Alice",
    ]
    lunch, cinema = (
        next(m for m in store.messages.iter_after(0) if m.text == text)
        for text in ("Lunch tomorrow?", "And cinema on Sunday?")
    )
    assert lunch.conversation_id == cinema.conversation_id


async def test_a_dropped_connection_is_resumed_without_losing_mail(
    mail_twin: MailTwinFactory, dovecot: Dovecot
) -> None:
    t = await mail_twin()
    t.seed(ALICE, "Alice", ALICE_BEFORE)
    first = t.channel._imap
    dovecot.kick(t.box.user)
    # Mail arriving while the connection is down is read once it is back.
    t.box.deliver(mail(f"Alice <{ALICE}>", OWNER, "Lunch", "Lunch tomorrow?"))
    await t.card("[twin] Draft 1 for Alice", timeout=20)
    assert t.channel._imap is not first
    twin = t.twin
    assert twin is not None
    health = twin.supervisor.health["email"]
    assert health.state == "connected" and "lost" in health.last_error.lower()


async def test_mail_from_the_owners_address_commands_only_when_provably_theirs(
    mail_twin: MailTwinFactory,
) -> None:
    t = await mail_twin()
    store = t.twin.store  # type: ignore[union-attr]
    # Anyone can write the owner's address in From: without their server vouching for
    # it, and without it in the owner's Sent folder, it is refused and audited.
    t.box.deliver(mail(OWNER, OWNER, "twin", "/pause"))
    refused = await t.card("[twin] Refused")
    assert "not the owner" in refused.get_content()
    assert store.state.get("paused") != "1"
    # The same command from the owner's own mail client (its copy in Sent) is obeyed.
    command = mail(OWNER, OWNER, "twin", "/pause")
    t.box.deliver(command, "Sent")
    t.box.deliver(command)
    await eventually(lambda: store.state.get("paused") == "1", what="the twin paused")
    await t.settled()
    assert len([c for c in t.cards() if "Refused" in str(c["Subject"])]) == 1


async def test_the_owners_server_can_vouch_for_the_owners_mail(
    mail_twin: MailTwinFactory,
) -> None:
    t = await mail_twin(TWIN_EMAIL_AUTHSERV_ID="mx.example.test")
    store = t.twin.store  # type: ignore[union-attr]
    t.smtp.stamp = (
        "mx.example.test; dkim=pass header.d=example.test; dmarc=pass header.from=example.test"
    )
    # The owner's reply arrives only in the INBOX, stamped by their receiving server.
    await t.smtp_send(mail(OWNER, OWNER, "twin", "/pause"))
    await eventually(lambda: store.state.get("paused") == "1", what="the twin paused")
    # A stamp by another server (or one the sender wrote) proves nothing.
    t.smtp.stamp = "mx.attacker.test; dkim=pass header.d=example.test"
    await t.smtp_send(mail(OWNER, OWNER, "twin", "/resume"))
    await t.card("[twin] Refused")
    assert store.state.get("paused") == "1"


async def test_newsletters_and_no_reply_mail_are_recorded_and_never_answered(
    mail_twin: MailTwinFactory,
) -> None:
    t = await mail_twin()
    t.seed("news@shop.example.test", "Shop", [("Shop", "Sale!"), ("me", "thanks")])
    t.box.deliver(
        mail(
            "Shop <news@shop.example.test>",
            OWNER,
            "Sale, Sam!",
            "Sam, 50% off everything",
            List_Unsubscribe="<mailto:unsubscribe@shop.example.test>",
        )
    )
    t.box.deliver(mail("noreply@bank.example.test", OWNER, "Statement", "Sam, your statement"))
    t.box.deliver(mail("Html <html@example.test>", OWNER, "Bulk", "Sam hello", Precedence="bulk"))
    store = t.twin.store  # type: ignore[union-attr]
    await eventually(
        lambda: len([m for m in store.messages.iter_after(0) if m.kind == "automated"]) == 3,
        what="the three automated mails recorded",
    )
    await t.settled()
    assert not [c for c in t.cards() if "Draft" in str(c["Subject"])]


def _reading(database: Path) -> bool:
    """Whether the twin has begun reading the INBOX (its checkpoint is in the store)."""
    if not database.exists():
        return False
    try:
        with contextlib.closing(sqlite3.connect(database, timeout=1)) as db:
            rows = db.execute("SELECT 1 FROM state WHERE key LIKE 'email:%:folder:INBOX'")
            return rows.fetchone() is not None
    except sqlite3.Error:
        return False


@pytest.mark.timeout(180)
def test_twin_run_on_email_from_settings_alone(
    dovecot: Dovecot, smtp: SmtpServer, tmp_path: Path
) -> None:
    """`twin run` with TWIN_CHANNELS=["email"]: the real command, configured by the
    environment only, reads a mail and sends the owner its card by mail."""
    box = Mailbox(dovecot.port, dovecot.new_user())
    box.deliver(mail("setup@example.test", OWNER, "setup", "creates the mailbox"))
    smtp.mailboxes[OWNER] = box
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWIN_")}
    env |= email_environ(box, smtp)
    env |= {
        "TWIN_HOME": str(tmp_path),
        "TWIN_CHANNELS": '["email"]',
        "TWIN_CONTROL_CHAT": f"email:{OWNER}",
        "TWIN_OWNER_HANDLES": json.dumps({"email": [OWNER]}),
        "TWIN_OWNER_NAME": "Sam",
        "TWIN_BURST_WINDOW_S": "0",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        env=env,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        # Its first start reads from the mailbox's present on: wait until it is there.
        while not _reading(tmp_path / "twin.db"):
            assert process.poll() is None, process.communicate()[1][-2000:]
            assert time.monotonic() < deadline, "twin run never connected"
            time.sleep(0.1)
        box.deliver(mail(f"Alice <{ALICE}>", OWNER, "Lunch", "Sam, lunch tomorrow?"))
        while time.monotonic() < deadline and not smtp.to(OWNER):
            assert process.poll() is None, process.communicate()[1][-2000:]
            time.sleep(0.1)
        cards = [s.mail for s in smtp.to(OWNER)]
        assert cards, "no mail reached the owner"
        # No earlier exchange to write like: the twin says so, by mail.
        assert "Alice" in cards[0].get_content()
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err[-2000:]


async def test_the_owners_own_answer_from_their_mail_client_replaces_the_draft(
    mail_twin: MailTwinFactory,
) -> None:
    t = await mail_twin()
    t.seed(ALICE, "Alice", ALICE_BEFORE)
    incoming = mail(f"Alice <{ALICE}>", OWNER, "Lunch", "Sam, lunch tomorrow?")
    t.box.deliver(incoming)
    await t.card("[twin] Draft 1 for Alice")
    # The owner answers Alice from their phone; the client files it in Sent, and a
    # copy of it (the owner put themselves in Cc) arrives in the INBOX too.
    own = mail(
        f"Sam <{OWNER}>",
        ALICE,
        "Re: Lunch",
        "yes, 1pm!\n\nOn Tue, Alice wrote:\n> Sam, lunch tomorrow?",
        cc=[OWNER],
        in_reply_to=incoming["Message-ID"],
    )
    t.box.deliver(own, "Sent")
    t.box.deliver(own)
    store = t.twin.store  # type: ignore[union-attr]
    await eventually(
        lambda: (d := store.drafts.get(DraftId(1))) is not None and d.status == "expired",
        what="the draft withdrawn",
    )
    await t.settled()
    mine = [m for m in store.messages.iter_after(0) if m.text == "yes, 1pm!"]
    assert len(mine) == 1 and mine[0].from_owner
    assert not t.smtp.to(ALICE)  # the twin sent nothing
    assert not [c for c in t.cards() if "Refused" in str(c["Subject"])]


async def test_doctor_checks_the_login_and_both_servers(dovecot: Dovecot, smtp: SmtpServer) -> None:
    from bot.channels.email import doctor

    box = Mailbox(dovecot.port, dovecot.new_user())
    box.deliver(mail("setup@example.test", OWNER, "setup", "creates the mailbox"))
    values = {"control_chat": f"email:{OWNER}", "owner_handles": {"email": [OWNER]}}
    fine = load_settings(email_environ(box, smtp), **values)  # type: ignore[arg-type]
    assert await doctor(fine) == []
    wrong = load_settings(
        email_environ(box, smtp, TWIN_EMAIL_PASSWORD="wrong", TWIN_EMAIL_TIMEOUT_S="2"),
        **values,  # type: ignore[arg-type]
    )
    problems = await doctor(wrong)
    assert len(problems) == 2
    assert "refused the login" in problems[0] and "app password" in problems[0]
    assert problems[1].startswith(f"SMTP 127.0.0.1:{smtp.controller.port}:")
    unreachable = load_settings(
        email_environ(box, smtp, TWIN_EMAIL_SMTP_PORT="1"),
        **values,  # type: ignore[arg-type]
    )
    assert [p.split(":")[0] for p in await doctor(unreachable)] == ["SMTP 127.0.0.1"]
