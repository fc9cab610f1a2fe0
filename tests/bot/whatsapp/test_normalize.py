"""WhatsApp messages, as neonize delivers them, become the twin's events."""

from __future__ import annotations

from neonize.proto.waCommon.WACommon_pb2 import MessageKey
from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import (
    AudioMessage,
    ContextInfo,
    DocumentMessage,
    ExtendedTextMessage,
    FutureProofMessage,
    ImageMessage,
    LocationMessage,
    ProtocolMessage,
    ReactionMessage,
)
from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import Message as E2EMessage

from bot.channels.whatsapp.normalize import Me, parse_message
from tests.support.whatsapp import OWNER, OWNER_LID, message, text
from twin_core.memory.identity import identities_of
from twin_core.types import MessageKind

ME = Me(phone_jid=OWNER, lid=OWNER_LID, device=7, name="Sam")
ALICE = "351912345678@s.whatsapp.net"


def test_a_contacts_text_is_theirs_with_their_phone_number_as_identity() -> None:
    event = parse_message(
        text("hi Sam", chat=ALICE, pushname="Alice", id="3A1", timestamp=1_780_000_000), ME
    )
    assert event is not None
    assert (event.channel, event.external_id, event.chat_id) == ("whatsapp", "3A1", ALICE)
    assert (event.sender_id, event.sender_name, event.text) == (ALICE, "Alice", "hi Sam")
    assert not event.from_owner and not event.is_group and event.kind is MessageKind.TEXT
    assert event.sent_at.timestamp() == 1_780_000_000
    # The same key an export's "+351 912 345 678" gives, so the two are one contact.
    assert event.identities == ("tel:351912345678",)
    assert identities_of("whatsapp", "+351 912 345 678") == ["tel:351912345678"]


def test_a_privacy_id_sender_is_known_by_the_phone_number_sent_alongside() -> None:
    lid = "123456789012345@lid"
    event = parse_message(text("hey", chat=lid, sender=lid, sender_alt=ALICE), ME)
    assert event is not None
    assert event.chat_id == ALICE and event.sender_id == ALICE
    assert event.identities == ("tel:351912345678",)
    # Without a phone number, the privacy id is the handle, and no identity is claimed.
    bare = parse_message(text("hey", chat=lid, sender=lid, pushname="X"), ME)
    assert bare is not None and bare.sender_id == lid and bare.identities == ()


def test_what_the_owner_sends_from_the_phone_is_the_owners() -> None:
    event = parse_message(text("on my way", chat=ALICE, from_me=True, device=0), ME)
    assert event is not None
    assert event.from_owner and event.sender_id == OWNER and event.chat_id == ALICE
    assert event.identities == ()


def test_the_owners_chat_with_themselves_is_the_owners_own_chat_id() -> None:
    for chat in (OWNER, OWNER_LID):
        event = parse_message(text("/status", chat=chat, sender=chat, from_me=True), ME)
        assert event is not None
        assert event.chat_id == OWNER and event.sender_id == OWNER


def test_a_group_message_names_its_sender_and_mentions() -> None:
    group = "120363025246125888@g.us"
    content = E2EMessage(
        extendedTextMessage=ExtendedTextMessage(
            text="@15550001111 dinner?",
            contextInfo=ContextInfo(mentionedJID=[OWNER], stanzaID="3AQUOTED"),
        )
    )
    event = parse_message(
        message(content, chat=group, sender=ALICE, group=True, pushname="Alice"),
        ME,
        chat_title="Family",
    )
    assert event is not None
    assert event.is_group and event.chat_id == group and event.chat_title == "Family"
    assert event.sender_id == ALICE and event.recipients == (OWNER,)
    # The owner is mentioned as the phone shows it, so "does it mention you?" can tell.
    assert event.reply_to == "3AQUOTED" and event.text == "@Sam dinner?"


def test_media_become_typed_placeholders_with_their_captions() -> None:
    cases = [
        (E2EMessage(imageMessage=ImageMessage(caption="the view")), "[image]\nthe view"),
        (E2EMessage(audioMessage=AudioMessage(PTT=True)), "[voice note]"),
        (E2EMessage(audioMessage=AudioMessage()), "[audio]"),
        (
            E2EMessage(documentMessage=DocumentMessage(fileName="report.pdf")),
            "[document: report.pdf]",
        ),
        (
            E2EMessage(
                locationMessage=LocationMessage(degreesLatitude=38.7, degreesLongitude=-9.1)
            ),
            "[location: 38.70000, -9.10000]",
        ),
        # Looked through: disappearing messages, view once.
        (
            E2EMessage(
                ephemeralMessage=FutureProofMessage(
                    message=E2EMessage(
                        viewOnceMessage=FutureProofMessage(
                            message=E2EMessage(imageMessage=ImageMessage())
                        )
                    )
                )
            ),
            "[image]",
        ),
    ]
    for content, expected in cases:
        event = parse_message(message(content, chat=ALICE), ME)
        assert event is not None and event.kind is MessageKind.MEDIA
        assert event.text == expected


def test_reactions_edits_and_deletions_point_at_their_message() -> None:
    key = MessageKey(ID="3AORIGINAL", remoteJID=ALICE, fromMe=False)
    reaction = parse_message(
        message(E2EMessage(reactionMessage=ReactionMessage(key=key, text="👍")), chat=ALICE), ME
    )
    assert reaction is not None and reaction.kind is MessageKind.SYSTEM
    assert (reaction.text, reaction.reply_to) == ("[reaction: 👍]", "3AORIGINAL")
    removed = parse_message(
        message(E2EMessage(reactionMessage=ReactionMessage(key=key, text="")), chat=ALICE), ME
    )
    assert removed is not None and removed.text == "[reaction removed]"

    edit = E2EMessage(
        editedMessage=FutureProofMessage(
            message=E2EMessage(
                protocolMessage=ProtocolMessage(
                    key=key,
                    type=ProtocolMessage.MESSAGE_EDIT,
                    editedMessage=E2EMessage(conversation="see you at 8, not 7"),
                )
            )
        )
    )
    edited = parse_message(message(edit, chat=ALICE, id="3AEDIT"), ME)
    assert edited is not None and edited.kind is MessageKind.TEXT
    assert (edited.external_id, edited.text, edited.reply_to) == (
        "3AEDIT",
        "see you at 8, not 7",
        "3AORIGINAL",
    )
    revoke = E2EMessage(protocolMessage=ProtocolMessage(key=key, type=ProtocolMessage.REVOKE))
    deleted = parse_message(message(revoke, chat=ALICE), ME)
    assert deleted is not None and deleted.kind is MessageKind.DELETED
    assert (deleted.text, deleted.reply_to) == ("[deleted]", "3AORIGINAL")


def test_what_is_not_a_conversation_message_is_none() -> None:
    key_share = E2EMessage(
        protocolMessage=ProtocolMessage(type=ProtocolMessage.APP_STATE_SYNC_KEY_SHARE)
    )
    assert parse_message(message(key_share, chat=ALICE), ME) is None
    assert parse_message(text("status", chat="status@broadcast", sender=ALICE), ME) is None
    assert parse_message(text("news", chat="120363@newsletter"), ME) is None
    assert parse_message(message(E2EMessage(), chat=ALICE), ME) is None


def test_a_ban_says_until_when_whether_given_as_a_duration_or_a_time() -> None:
    from bot.channels.whatsapp.channel import logout_reason

    now = 1_780_000_000.0  # 2026-05-28 20:26:40 UTC
    for expires in (86_400, 1_780_086_400):
        text = logout_reason("banned", "BLOCKED_BY_USERS", expires, now=now)
        assert "until 2026-05-29 20:26 UTC (blocked by users)" in text
    assert "until" not in logout_reason("banned")
