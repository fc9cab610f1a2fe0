"""The email channel against a real IMAP server (dovecot) and a real SMTP server
(aiosmtpd), driven through a real Twin built from settings alone."""

from __future__ import annotations

from email.message import EmailMessage

from tests.channels.email.conftest import OWNER, MailTwinFactory, eventually, mail

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
        lambda: (d := store.drafts.get(1)) is not None and d.status == "sent" and d,
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
