"""The email channel's pure parts: reading a mail, who may answer it, who wrote it,
what the owner's answer means, and the reply."""

from __future__ import annotations

from datetime import UTC
from email.message import EmailMessage

import pytest

from bot.channels.email.mail import (
    Mail,
    ThreadInfo,
    control_text,
    fresh_chat,
    read_mail,
    reply_mail,
)
from bot.channels.email.settings import EmailSettings
from tests.bot.email.conftest import OWNER, mail
from twin_core.memory.importers.mbox import MessageReader
from twin_core.settings import SettingsError, load_section, load_settings
from twin_core.types import MessageKind


def read(message: EmailMessage | bytes, authserv_id: str = "") -> Mail:
    data = message if isinstance(message, bytes) else bytes(message)
    found = read_mail(data, MessageReader(UTC), owner_address=OWNER, authserv_id=authserv_id)
    assert found is not None
    return found


def test_a_reply_threads_under_the_thread_and_drops_quotes_and_signature() -> None:
    first = mail("Alice <alice@example.test>", OWNER, "Dinner", "Dinner on Friday?")
    second = mail(
        "Alice <alice@example.test>",
        OWNER,
        "Re: Dinner",
        "Great, 7pm then.\n\nOn Mon, Sam wrote:\n> sure\n\n-- \nAlice Smith\nACME Corp",
        in_reply_to=first["Message-ID"],
    )
    a, b = read(first), read(second)
    assert b.event.chat_id == a.event.chat_id == first["Message-ID"].strip("<>")
    assert b.event.text == "Great, 7pm then."
    assert b.event.reply_to == a.message_id
    assert not b.automated


def test_the_answer_goes_to_the_from_address_never_a_reply_to() -> None:
    message = mail("Alice <alice@example.test>", OWNER, "Hi", "Sam, hi", Reply_To="x@evil.test")
    assert read(message).reply_address == "alice@example.test"


def test_html_mail_becomes_text() -> None:
    message = mail("bob@example.test", OWNER, "Hi", "plain")
    message.set_content(
        "<html><body><p>Hello <b>Sam</b>,</p><p>see you at 8.</p>"
        '<div class="gmail_quote">On Sun, Sam wrote:<blockquote>old</blockquote></div>'
        "</body></html>",
        subtype="html",
    )
    assert read(message).event.text == "Hello Sam,\nsee you at 8."


@pytest.mark.parametrize(
    ("sender", "headers", "why"),
    [
        ("news@shop.example.test", {"List-Unsubscribe": "<mailto:u@shop.example.test>"}, "List"),
        ("team@list.example.test", {"List-Id": "<team.list.example.test>"}, "List-Id"),
        ("bob@example.test", {"Precedence": "bulk"}, "Precedence"),
        ("bob@example.test", {"Auto-Submitted": "auto-replied"}, "Auto-Submitted"),
        ("no-reply@bank.example.test", {}, "no-reply"),
        ("DoNotReply@bank.example.test", {}, "no-reply"),
        ("notifications@github.example.test", {}, "no-reply"),
    ],
)
def test_machine_mail_is_recorded_as_automated(
    sender: str, headers: dict[str, str], why: str
) -> None:
    message = mail(sender, OWNER, "Hello", "Sam, hello")
    for name, value in headers.items():
        message[name] = value
    found = read(message)
    assert why in found.automated
    assert found.event.kind is MessageKind.AUTOMATED


def test_a_person_is_not_automated() -> None:
    found = read(
        mail("Nora Info <nora@example.test>", OWNER, "Hi", "Sam, hi", Precedence="first-class")
    )
    assert found.automated == "" and found.event.kind is MessageKind.TEXT


GOOD = "mx.example.test; dkim=pass header.d=example.test; dmarc=pass header.from=example.test"


@pytest.mark.parametrize(
    ("stamps", "authserv", "verified"),
    [
        ([GOOD], "mx.example.test", True),
        ([GOOD], "", False),  # no trusted server configured: headers prove nothing
        (["mx.example.test; dkim=fail header.d=example.test"], "mx.example.test", False),
        (["mx.example.test; dkim=pass header.d=other.test"], "mx.example.test", False),
        (["mx.example.test; spf=pass smtp.mailfrom=example.test"], "mx.example.test", False),
        # The sender's own header sits below the receiving server's: only the top counts.
        (["mx.example.test; dkim=none", GOOD], "mx.example.test", False),
        (["evil.test; dkim=pass header.d=example.test"], "mx.example.test", False),
        (
            ["mx.example.test.evil.test; dmarc=pass header.from=example.test"],
            "mx.example.test",
            False,
        ),
    ],
)
def test_only_the_owners_server_vouches_for_the_owners_address(
    stamps: list[str], authserv: str, verified: bool
) -> None:
    verified = bool(verified)
    message = mail(OWNER, OWNER, "twin", "/status")
    data = b"".join(f"Authentication-Results: {s}\r\n".encode() for s in stamps) + bytes(message)
    assert read(data, authserv).owner_verified is verified


def test_another_sender_is_never_the_owner_whatever_the_stamp() -> None:
    message = mail("alice@example.test", OWNER, "hi", "hi")
    data = f"Authentication-Results: {GOOD}\r\n".encode() + bytes(message)
    assert read(data, "mx.example.test").owner_verified is False


@pytest.mark.parametrize(
    ("answer", "command"),
    [
        ("approve", "/approve 12"),
        ("Approve.", "/approve 12"),
        ("reject", "/reject 12"),
        ("Sure, 7pm works!", "/edit 12 Sure, 7pm works!"),
        ("/status", "/status"),
    ],
)
def test_an_answer_to_a_draft_card_becomes_its_command(answer: str, command: str) -> None:
    body = f"{answer}\n\nOn Tue, Sam <{OWNER}> wrote:\n> Draft 12 for Alice\n> Reply: hi\n"
    message = mail(OWNER, OWNER, "Re: [twin] Draft 12 for Alice", body)
    assert control_text(read(message)) == command


def test_a_mail_to_the_twin_that_answers_no_card_is_passed_as_written() -> None:
    assert control_text(read(mail(OWNER, OWNER, "twin", "/recall pasta"))) == "/recall pasta"


def test_the_reply_goes_to_the_sender_only_threaded_and_signed() -> None:
    thread = ThreadInfo("alice@example.test", "Dinner", "b@example.test", ("a@example.test",))
    reply = reply_mail(
        thread,
        "yes!",
        sender=OWNER,
        sender_name="Sam",
        signature="Sam\nsent by my twin",
        message_id="twin.1@example.test",
    )
    assert reply["To"] == "alice@example.test" and reply["Cc"] is None
    assert reply["Subject"] == "Re: Dinner"
    assert reply["In-Reply-To"] == "<b@example.test>"
    assert reply["References"] == "<a@example.test> <b@example.test>"
    assert reply["From"] == f"Sam <{OWNER}>"
    assert reply.get_content() == "yes!\n\n-- \nSam\nsent by my twin\n"
    again = reply_mail(
        ThreadInfo("a@x.test", "RE: Dinner", "c@x.test", ()),
        "ok",
        sender=OWNER,
        sender_name="",
        signature="",
        message_id="twin.2@example.test",
    )
    assert again["Subject"] == "RE: Dinner" and again.get_content() == "ok\n"


def test_a_mail_cannot_take_the_control_chats_id() -> None:
    # A Message-ID is the sender's to choose: one equal to the control chat's id
    # must not put a contact's mail in the control chat.
    message = mail("mallory@example.test", OWNER, "hi", "/pause")
    message.replace_header("Message-ID", f"<{OWNER}>")
    event = fresh_chat(read(message).event, OWNER)
    assert event.chat_id != OWNER


def email_settings(**env: str) -> EmailSettings:
    base = {
        "TWIN_EMAIL_ADDRESS": "Sam@Example.test",
        "TWIN_EMAIL_IMAP_HOST": "imap.example.test",
        "TWIN_EMAIL_SMTP_HOST": "smtp.example.test",
        "TWIN_EMAIL_PASSWORD": "app-password",
    }
    return load_section(EmailSettings, load_settings({**base, **env}))


def test_settings_defaults_and_ports() -> None:
    tls = email_settings()
    assert tls.address == "sam@example.test" and tls.login == "sam@example.test"
    assert tls.imap == ("imap.example.test", 993) and tls.smtp == ("smtp.example.test", 465)
    starttls = email_settings(TWIN_EMAIL_SECURITY="starttls", TWIN_EMAIL_SMTP_PORT="2525")
    assert starttls.imap[1] == 143 and starttls.smtp[1] == 2525
    assert "app-password" not in repr(tls)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TWIN_EMAIL_SECURITY": "none"}, "accepted only for a server on 127.0.0.1"),
        (
            {"TWIN_EMAIL_SECURITY": "none", "TWIN_EMAIL_IMAP_HOST": "127.0.0.1"},
            "the SMTP host is 'smtp.example.test'",
        ),
        (
            {"TWIN_EMAIL_SECURITY": "none", "TWIN_EMAIL_IMAP_HOST": "localhost.evil.test"},
            "IMAP host",
        ),
        ({"TWIN_EMAIL_SECURITY": "ssl"}, "TWIN_EMAIL_SECURITY"),
        ({"TWIN_EMAIL_PASSWORD": "changeme"}, "TWIN_EMAIL_PASSWORD: is still a placeholder"),
        ({"TWIN_EMAIL_ADDRESS": "sam"}, "TWIN_EMAIL_ADDRESS: is not an email address"),
    ],
)
def test_settings_refused_with_a_reason(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        email_settings(**env)


def test_no_credentials_is_refused() -> None:
    with pytest.raises(SettingsError, match="no credentials"):
        load_section(
            EmailSettings,
            load_settings(
                {
                    "TWIN_EMAIL_ADDRESS": OWNER,
                    "TWIN_EMAIL_IMAP_HOST": "127.0.0.1",
                    "TWIN_EMAIL_SMTP_HOST": "127.0.0.1",
                }
            ),
        )


def test_plain_connections_are_accepted_on_loopback() -> None:
    local = email_settings(
        TWIN_EMAIL_SECURITY="none",
        TWIN_EMAIL_IMAP_HOST="127.0.0.1",
        TWIN_EMAIL_SMTP_HOST="::1",
        TWIN_EMAIL_OAUTH2_TOKEN="ya29.token",
    )
    assert local.imap == ("127.0.0.1", 143) and local.smtp == ("::1", 25)


def test_the_sent_folder_is_found_by_its_special_use_mark() -> None:
    from aioimaplib import Response

    from bot.channels.email.imap import folder_names, sent_folder_of

    gmail = Response(
        "OK",
        [
            b'(\\HasNoChildren) "/" "INBOX"',
            b'(\\HasChildren \\Noselect) "/" "[Gmail]"',
            b'(\\HasNoChildren \\Sent) "/" "[Gmail]/Sent Mail"',
            b"LIST completed",
        ],
    )
    assert sent_folder_of(gmail) == "[Gmail]/Sent Mail"
    plain = Response("OK", [b'(\\HasNoChildren) "." INBOX', b'(\\HasNoChildren) "." Sent'])
    assert sent_folder_of(plain) is None
    assert folder_names(plain) == {"INBOX", "Sent"}
