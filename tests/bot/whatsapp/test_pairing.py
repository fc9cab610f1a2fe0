"""`twin pair whatsapp`: the QR code (or phone code) in the terminal, the session kept,
the owner and the control chat recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from neonize.proto import Neonize_pb2 as pb

from bot.app import open_store
from bot.channels.whatsapp import channel as whatsapp_channel
from bot.handlers.owner import OwnerIdentity
from tests.support.cli import Cli
from tests.support.whatsapp import OWNER, WhatsAppClient
from twin_core.settings import load_settings

SUCCESS = pb.PairStatus(Status=pb.PairStatus.PStatus.Value("SUCCESS"))


def phone_links(monkeypatch: pytest.MonkeyPatch, *events: Any) -> list[WhatsAppClient]:
    """The client `twin pair` makes, with what WhatsApp would send once connected."""
    made: list[WhatsAppClient] = []

    def factory(session: str) -> WhatsAppClient:
        client = WhatsAppClient(session)
        client.on_connect = list(events)
        made.append(client)
        return client

    monkeypatch.setattr(whatsapp_channel, "new_client", factory)
    return made


def test_pair_shows_a_qr_code_and_makes_the_owners_own_chat_the_control_chat(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = phone_links(monkeypatch, b"2@first-code", b"2@second-code", SUCCESS, pb.Connected())
    session = tmp_path / "whatsapp" / "session.sqlite3"
    session.parent.mkdir()
    session.write_bytes(b"")  # as the library leaves it: readable by others
    session.chmod(0o644)
    result = cli("pair", "whatsapp", env={"TWIN_HOME": str(tmp_path)})
    assert session.stat().st_mode & 0o777 == 0o600
    assert result.exit_code == 0, result.output
    assert "Linked devices > Link a device" in result.stdout
    assert "A new code" in result.stdout  # the first one expired
    assert "\u2588" in result.stdout or "\u2580" in result.stdout  # drawn in blocks
    assert "Linked: the twin is a device of +15550001111" in result.stdout
    assert "your chat with yourself" in result.stdout
    [client] = made
    assert client.name == str(tmp_path / "whatsapp" / "session.sqlite3")
    assert [c[0] for c in client.outgoing.calls] == ["disconnect", "stop"]

    settings = load_settings({"TWIN_HOME": str(tmp_path)})
    store = open_store(settings)
    try:
        identity = OwnerIdentity(settings, store)
        assert identity.is_owner("whatsapp", OWNER)
        control = identity.control_chat()
        assert (control.channel, control.chat_id) == ("whatsapp", OWNER)
    finally:
        store.close()


def test_pair_with_a_phone_number_shows_a_code_to_type(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = phone_links(monkeypatch, b"2@code", b"2@code-again", SUCCESS, pb.Connected())
    env = {"TWIN_HOME": str(tmp_path), "TWIN_WHATSAPP_PHONE": "+1 555 000 1111"}
    result = cli("pair", "whatsapp", env=env)
    assert result.exit_code == 0, result.output
    assert "Link with phone number instead, and type: ABCD-EFGH" in result.stdout
    assert "Scan this" not in result.stdout
    assert made[0].outgoing.calls[0] == ("pair_phone", "15550001111", True)  # once


def test_pair_keeps_a_control_chat_already_on_another_platform(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    phone_links(monkeypatch, pb.Connected())  # an already linked session just connects
    env = {
        "TWIN_HOME": str(tmp_path),
        "TWIN_CONTROL_CHAT": "telegram:42",
        "TWIN_OWNER_HANDLES": json.dumps({"telegram": ["42"]}),
    }
    result = cli("pair", "whatsapp", env=env)
    assert result.exit_code == 0, result.output
    assert "the control chat stays on telegram" in result.stdout


@pytest.mark.parametrize(
    ("events", "says"),
    [
        ([pb.PairStatus(Error="bad code")], "the phone did not link the twin: bad code"),
        (
            [pb.LoggedOut(Reason=pb.ConnectFailureReason.Value("LOGGED_OUT"))],
            "logged the twin out",
        ),
    ],
)
def test_a_failed_pairing_is_one_line(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, events: list[Any], says: str
) -> None:
    phone_links(monkeypatch, *events)
    result = cli("pair", "whatsapp", env={"TWIN_HOME": str(tmp_path)})
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("twin: ") and says in line


def test_pair_gives_up_after_its_timeout(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    phone_links(monkeypatch, b"2@never-scanned")
    env = {"TWIN_HOME": str(tmp_path), "TWIN_WHATSAPP_PAIR_TIMEOUT_S": "0.2"}
    result = cli("pair", "whatsapp", env=env)
    assert result.exit_code == 2 and "did not link the twin within 0 s" in result.stderr


def test_doctor_says_when_whatsapp_is_not_linked(cli: Cli, tmp_path: Path) -> None:
    env = {"TWIN_HOME": str(tmp_path), "TWIN_CHANNELS": '["whatsapp"]'}
    result = cli("doctor", env=env)
    assert result.exit_code == 1
    assert "whatsapp: not linked" in result.stdout and "twin pair whatsapp" in result.stdout


def test_a_bad_phone_number_is_refused_naming_the_variable(cli: Cli, tmp_path: Path) -> None:
    env = {"TWIN_HOME": str(tmp_path), "TWIN_WHATSAPP_PHONE": "call me"}
    result = cli("pair", "whatsapp", env=env)
    assert result.exit_code == 2 and "TWIN_WHATSAPP_PHONE" in result.stderr


def test_twin_run_on_an_unlinked_whatsapp_says_so_and_exits(cli: Cli, tmp_path: Path) -> None:
    env = {"TWIN_HOME": str(tmp_path), "TWIN_CHANNELS": '["whatsapp"]'}
    result = cli("run", env=env)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"twin: whatsapp failed: WhatsApp is not linked yet (no session in "
        f"{tmp_path / 'whatsapp' / 'session.sqlite3'}): run `twin pair whatsapp` and scan "
        "the code with your phone"
    )
