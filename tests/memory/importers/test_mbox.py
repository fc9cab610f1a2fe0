from __future__ import annotations

import mailbox
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.memory.importers.conftest import FIXTURES, events, split
from twin_core.memory.importers.common import NotThisFormat
from twin_core.memory.importers.mbox import html_to_text, parse_mbox, split_mbox, strip_reply
from twin_core.types import InboundEvent, MessageKind

HERE = FIXTURES / "mbox"
TAKEOUT = HERE / "takeout.mbox"


def by_id(found: list[InboundEvent]) -> dict[str, InboundEvent]:
    return {e.external_id: e for e in found}


# --- the real files (../shared) ---------------------------------------------------------


def test_gmail_sample(shared_exports: Path) -> None:
    found, problems = split(parse_mbox(shared_exports / "mbox" / "gmail_sample.mbox"))
    assert problems == []
    assert [(e.sender_id, e.chat_title) for e in found] == [
        ("mom@family.com", "Happy 32nd Birthday!"),
        ("user@example.com", "Happy 32nd Birthday!"),
        ("colleague@stanford.edu", "Congratulations on the Fields Medal!"),
        ("user@example.com", "Congratulations on the Fields Medal!"),
        ("hr@stanford.edu", "Salary Increase - Effective Immediately"),
        ("user@example.com", "Sabbatical Confirmation - MIT Fall 2025"),
        ("doctor@healthcenter.com", "Test Results - All Clear!"),
    ]
    assert found[0].sent_at == datetime(2025, 4, 7, 14, 30, tzinfo=UTC)
    assert found[0].text.startswith("Happy Birthday my dear son!")
    assert found[0].text.endswith("Love,\nMom")
    # No Message-IDs here: the same topic among the same people is one conversation.
    assert found[0].chat_id == found[1].chat_id
    assert found[2].chat_id == found[3].chat_id
    assert len({e.chat_id for e in found}) == 5
    assert len({e.external_id for e in found}) == 7
    assert [e.external_id for e in found] == [
        e.external_id for e in events(parse_mbox(shared_exports / "mbox" / "gmail_sample.mbox"))
    ]


def test_eml_with_html_alternative_and_an_attachment(shared_exports: Path) -> None:
    (event,) = events(parse_mbox(shared_exports / "mbox" / "fake-email-attachment.eml"))
    assert event.external_id == "CAPgNNXSzLVJ-d1OCX_TjFgJU7ugtQrjFybPtAMmmYZzphxNFYg@mail.gmail.com"
    assert event.sender_id == "mallori@unstructured.io"
    assert event.sender_name == "Mallori Harrell"
    assert event.sent_at == datetime(2022, 12, 23, 12, 8, 48, tzinfo=timezone(timedelta(hours=-6)))
    assert event.text.startswith("Hello!\n\nHere's the attachments!")
    assert "   - Lots of whitespace" in event.text
    assert event.text.endswith("Best,\n\nMallori\n[document: fake-attachment.txt]")
    assert event.kind is MessageKind.TEXT
    assert event.raw is not None and "Content-Type: multipart/mixed" in event.raw


# --- this project's fixtures --------------------------------------------------------------


def test_the_standard_library_mbox_would_choke_on_this_file() -> None:
    # The reason this parser splits the stream itself.
    with pytest.raises(UnicodeDecodeError):
        list(mailbox.mbox(TAKEOUT))


def test_takeout_mailbox() -> None:
    found, problems = split(parse_mbox(TAKEOUT))
    assert [(e.external_id, e.kind.value, e.sender_id, e.text) for e in found] == [
        (
            "root-1@example.es",
            "text",
            "jose.nunez@example.es",
            "Hola Sam,\n\n¿cenamos el viernes? Conozco un sitio nuevo cerca de la estación."
            "\n\nUn abrazo,\nJosé",
        ),
        ("reply-2@mail.example.com", "text", "sam@example.com", "Claro! Friday at 8 works.\n\nSam"),
        ("reply-3@example.es", "text", "jose.nunez@example.es", "Perfecto, reservo yo."),
        (
            "outlook-4@example.org",
            "text",
            "alice@example.org",
            "Works for me. Budget is approved.\nFrom now on let's book early.",
        ),
        ("nodate-5@example.net", "text", "bo@example.net", "lunch tomorrow?"),
        (
            "attach-6@example.org",
            "media",
            "alice@example.org",
            "[document: invoice-march.pdf]\n[image: reçu.jpg]",
        ),
        (
            "html-7@example.com",
            "text",
            "news@example.com",
            "This week\nThree things & more:\n- one\n- two\nBye now",
        ),
        (
            "html-reply-8@example.com",
            "text",
            "kai@example.com",
            "Yes! I'll bring the rope.\nSee you at 10",
        ),
    ]
    assert [(p.line, p.reason) for p in problems] == [
        (97, "no Date header; used the date on the mbox 'From ' line"),
        (
            133,
            "unreadable Date header 'sometime last week'; used the date on the mbox 'From ' line",
        ),
    ]


def test_encoded_headers_and_charsets() -> None:
    root = by_id(events(parse_mbox(TAKEOUT)))["root-1@example.es"]
    assert root.sender_name == "José Núñez"
    assert root.sender_id == "jose.nunez@example.es"
    assert root.chat_title == "¿Cenamos el viernes?"
    assert root.sent_at == datetime(2023, 3, 14, 10, 5, tzinfo=timezone(timedelta(hours=1)))


def test_quotes_and_signatures_are_cut_from_text_but_kept_in_raw() -> None:
    found = by_id(events(parse_mbox(TAKEOUT)))
    root = found["root-1@example.es"]
    assert "Ingeniero" not in root.text
    assert root.raw is not None and "Ingeniero, Ejemplo S.A." in root.raw
    reply = found["reply-2@mail.example.com"]
    assert "cenamos" not in reply.text
    assert reply.raw is not None and "> ¿cenamos el viernes?" in reply.raw
    assert "Subject: Re: =?UTF-8?B?" in reply.raw
    outlook = found["outlook-4@example.org"]
    assert "offsite in May" not in outlook.text
    assert outlook.raw is not None and "Shall we do the offsite in May?" in outlook.raw
    assert "iPhone" not in found["reply-3@example.es"].text
    html_reply = found["html-reply-8@example.com"]
    assert "Route setter" not in html_reply.text
    assert html_reply.raw is not None and "> > Still on for Saturday?" in html_reply.raw


def test_threads_by_references_in_reply_to_and_memory() -> None:
    found = by_id(events(parse_mbox(TAKEOUT)))
    thread = ("root-1@example.es", "reply-2@mail.example.com", "reply-3@example.es")
    assert {found[i].chat_id for i in thread} == {"root-1@example.es"}
    assert found["root-1@example.es"].reply_to is None
    assert found["reply-2@mail.example.com"].reply_to == "root-1@example.es"
    # Only In-Reply-To, pointing at a reply: the thread's root is remembered.
    assert found["reply-3@example.es"].reply_to == "reply-2@mail.example.com"
    assert found["outlook-4@example.org"].chat_id == "offsite-0@example.com"
    assert found["outlook-4@example.org"].chat_title == "Q2 offsite"
    assert found["html-reply-8@example.com"].chat_id == "eml-1@example.com"


def test_group_mail_and_one_to_one() -> None:
    found = by_id(events(parse_mbox(TAKEOUT)))
    assert found["outlook-4@example.org"].is_group
    assert not found["root-1@example.es"].is_group


def test_recipients_are_the_to_and_cc_addresses_but_the_sender() -> None:
    """Whom a mail was written to decides whose it is: Sam's answer to José is José's,
    and a group mail names everyone it went to (lower-cased, as handles are)."""
    found = by_id(events(parse_mbox(TAKEOUT)))
    assert found["reply-2@mail.example.com"].recipients == ("jose.nunez@example.es",)
    assert found["root-1@example.es"].recipients == ("sam@example.com",)
    assert found["outlook-4@example.org"].recipients == (
        "bo@example.net",
        "sam@example.com",
        "team@example.org",
    )


def test_single_eml_dated_by_its_received_header() -> None:
    found, problems = split(parse_mbox(HERE / "single.eml"))
    (event,) = found
    assert event.sender_id == "kai@example.com"
    assert event.sent_at == datetime(2023, 3, 20, 9, 0, 5, tzinfo=UTC)
    assert [(p.line, p.reason) for p in problems] == [
        (1, "no Date header; used the date its server received it")
    ]


def test_a_message_with_no_date_anywhere_is_reported_and_skipped() -> None:
    found, problems = split(parse_mbox(HERE / "undated.eml"))
    assert found == []
    assert [p.reason for p in problems] == ["no Date header, and no other date to use; skipped"]


def test_takeout_zip_and_a_folder_of_mail(tmp_path: Path) -> None:
    archive = tmp_path / "takeout-20230401T000000Z-001.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.write(TAKEOUT, "Takeout/Mail/All mail Including Spam and Trash.mbox")
        out.writestr("Takeout/archive_browser.html", "<html></html>")
    assert events(parse_mbox(archive)) == events(parse_mbox(TAKEOUT))
    folder = events(parse_mbox(HERE))
    assert len(folder) == len(events(parse_mbox(TAKEOUT))) + 1


def test_ids_are_stable_across_reimports() -> None:
    first = [e.external_id for e in events(parse_mbox(TAKEOUT))]
    assert first == [e.external_id for e in events(parse_mbox(TAKEOUT))]


def test_split_mbox_without_blank_lines_between_messages() -> None:
    data = [
        b"From a@example.com Mon Apr 07 14:30:00 +0000 2025\n",
        b"Subject: one\n",
        b"body\n",
        b"From b@example.com Mon Apr  7 14:31:00 2025\n",
        b"Subject: two\n",
    ]
    assert [line for line, _, _ in split_mbox(data)] == [1, 4]


def test_a_from_line_in_a_body_does_not_split_a_message() -> None:
    data = [
        b"From a@example.com Mon Apr 07 14:30:00 2025\n",
        b"Subject: one\n",
        b"\n",
        b"From the desk of A: hello\n",
        b"From 9 to 5 at 10:30 - not after a blank line\n",
        b">From here on, quoted\n",
        b"\n",
        b"From b@example.com Mon Apr 07 14:32:00 2025\n",
        b"Subject: two\n",
    ]
    messages = list(split_mbox(data))
    assert [(line, body) for line, _, body in messages] == [
        (
            1,
            b"Subject: one\n\nFrom the desk of A: hello\n"
            b"From 9 to 5 at 10:30 - not after a blank line\nFrom here on, quoted\n\n",
        ),
        (8, b"Subject: two\n"),
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Sounds good!\n\nOn Mon, 3 Apr 2023, Alice wrote:\n> see you\n", "Sounds good!"),
        ("Gerne.\n\nAm 03.04.2023 um 10:00 schrieb Alice <a@x.de>:\n> bis dann\n", "Gerne."),
        (
            "D'accord.\n\nLe lun. 3 avr. 2023 à 10:00, Alice <a@x.fr> a écrit :\n> à plus\n",
            "D'accord.",
        ),
        ("Vale.\n\nEl lun, 3 abr 2023 a las 10:00, Alice (<a@x.es>)\nescribió:\n> hola\n", "Vale."),
        ("Yes.\n\nFrom: Alice <a@x.com>\nSent: Monday\nTo: Sam\nSubject: hi\n\nold text", "Yes."),
        ("Yes.\n________________________________\nFrom: Alice\nold text", "Yes."),
        ("Answer one\n> question one\nAnswer two\n> question two\n", "Answer one\nAnswer two"),
        ("Thanks!\n-- \nSam Owner\n+1 555 0100", "Thanks!"),
        ("Thanks!\n\nSent from my iPhone", "Thanks!"),
        ("On Monday I wrote:\nthe report is done", "On Monday I wrote:\nthe report is done"),
    ],
)
def test_strip_reply(body: str, expected: str) -> None:
    assert strip_reply(body) == expected


def test_html_to_text() -> None:
    markup = (
        "<p>Hi&nbsp;there,</p><p>line one<br>line two</p><ul><li>a</li><li>b</li></ul>"
        "<blockquote>quoted <b>bold</b></blockquote><pre>  keep\n  spaces</pre>"
    )
    assert html_to_text(markup) == (
        "Hi there,\nline one\nline two\n- a\n- b\n> quoted bold\n  keep\n  spaces"
    )


@pytest.mark.parametrize("content", [b"hello world\n", b"", b"\x89PNG\r\n\x1a\n"])
def test_not_an_email_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "file.mbox"
    path.write_bytes(content)
    with pytest.raises(NotThisFormat, match="expected an mbox file"):
        parse_mbox(path)


def test_a_folder_without_mail(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("From: me\n")
    with pytest.raises(NotThisFormat, match=r"no format twin imports, not an mbox or \.eml"):
        parse_mbox(tmp_path)
