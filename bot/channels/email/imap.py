"""Opening an IMAP session the way the settings say (TLS, STARTTLS or plain on
127.0.0.1; password or XOAUTH2), and reading aioimaplib's answers."""

from __future__ import annotations

import asyncio
import re
import shlex
import ssl
from collections.abc import Callable

import aioimaplib

from bot.channels.base import ChannelAuthError
from bot.channels.email.settings import EmailSettings

_NUMBER = {
    "UIDVALIDITY": re.compile(rb"\[UIDVALIDITY (\d+)\]"),
    "UIDNEXT": re.compile(rb"\[UIDNEXT (\d+)\]"),
}
_LIST_LINE = re.compile(rb'^\((?P<flags>[^)]*)\) (?:"[^"]*"|NIL) (?P<name>.+)$')


class ImapError(ConnectionError):
    """The server answered a command with NO or BAD (or not at all)."""


async def token_of(config: EmailSettings) -> str | None:
    """The OAuth2 access token to log in with, if the settings use OAuth2."""
    if config.oauth2_token_command:
        process = await asyncio.create_subprocess_exec(
            *shlex.split(config.oauth2_token_command),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), config.timeout_s)
        if process.returncode != 0 or not out.strip():
            why = err.decode(errors="replace").strip()[:200] or f"exit {process.returncode}"
            raise ChannelAuthError(f"TWIN_EMAIL_OAUTH2_TOKEN_COMMAND failed: {why}")
        return out.decode().strip()
    if config.oauth2_token is not None:
        return config.oauth2_token.get_secret_value()
    return None


async def open_session(
    config: EmailSettings, on_lost: Callable[[Exception | None], None] | None = None
) -> aioimaplib.IMAP4:
    """A logged-in IMAP session. Raises `ChannelAuthError` when the login is refused,
    `ConnectionError`/`OSError`/`TimeoutError` when the server cannot be reached."""
    host, port = config.imap
    if config.security == "tls":
        imap: aioimaplib.IMAP4 = aioimaplib.IMAP4_SSL(
            host=host, port=port, timeout=config.timeout_s, ssl_context=ssl.create_default_context()
        )
        if on_lost is not None:
            imap.protocol.conn_lost_cb = on_lost
    else:
        imap = aioimaplib.IMAP4(
            host=host, port=port, timeout=config.timeout_s, conn_lost_cb=on_lost
        )
    try:
        await imap.wait_hello_from_server()
        if config.security == "starttls":
            await _starttls(imap, host, config.timeout_s)
        token = await token_of(config)
        if token is not None:
            response = await imap.xoauth2(config.login, token)  # type: ignore[arg-type]
        else:
            assert config.password is not None
            response = await imap.login(config.login, config.password.get_secret_value())
    except BaseException:
        _drop(imap)
        raise
    if response.result != "OK":
        _drop(imap)
        said = b" ".join(bytes(line) for line in response.lines).decode(errors="replace")
        raise ChannelAuthError(
            f"the IMAP server {host} refused the login of {config.login!r}: {said[:200]} "
            "(Gmail and Outlook need an app password or OAuth2; see docs/channels/email.md)"
        )
    return imap


async def _starttls(imap: aioimaplib.IMAP4, host: str, timeout: float) -> None:
    """STARTTLS, which aioimaplib does not offer: the command, then TLS on the same
    connection, then the capabilities again (they may differ under TLS)."""
    protocol = imap.protocol
    if "STARTTLS" not in protocol.capabilities:
        raise ConnectionError(f"the IMAP server {host} does not offer STARTTLS")
    response = await asyncio.wait_for(protocol.simple_command("STARTTLS"), timeout)
    if response.result != "OK":
        raise ConnectionError(f"the IMAP server {host} refused STARTTLS")
    loop = asyncio.get_running_loop()
    transport = await loop.start_tls(
        protocol.transport, protocol, ssl.create_default_context(), server_hostname=host
    )
    protocol.transport = transport
    await asyncio.wait_for(protocol.capability(), timeout)


def _drop(imap: aioimaplib.IMAP4) -> None:
    transport = getattr(imap.protocol, "transport", None)
    if transport is not None:
        transport.close()


async def close_session(imap: aioimaplib.IMAP4, timeout: float = 5.0) -> None:
    """Log out politely if the server answers quickly; close the socket either way."""
    try:
        if imap.get_state() not in ("LOGOUT", "STARTED"):
            await asyncio.wait_for(imap.logout(), timeout)
    except Exception:
        pass
    finally:
        _drop(imap)


def check(response: aioimaplib.Response, what: str) -> aioimaplib.Response:
    if response.result != "OK":
        said = b" ".join(bytes(line) for line in response.lines[-1:]).decode(errors="replace")
        raise ImapError(f"IMAP {what} failed: {said[:200]}")
    return response


def number(response: aioimaplib.Response, name: str) -> int | None:
    """`UIDVALIDITY` or `UIDNEXT` from a SELECT's answer."""
    for line in response.lines:
        if isinstance(line, bytes | bytearray):
            found = _NUMBER[name].search(bytes(line))
            if found:
                return int(found.group(1))
    return None


def uids(response: aioimaplib.Response) -> list[int]:
    """The UIDs of a UID SEARCH answer, ascending."""
    found: set[int] = set()
    for line in response.lines[:-1]:
        text = bytes(line).decode(errors="replace")
        found.update(int(word) for word in text.replace("SEARCH", " ").split() if word.isdigit())
    return sorted(found)


def literal(response: aioimaplib.Response) -> bytes | None:
    """The message bytes of a one-message FETCH answer."""
    for line in response.lines:
        if isinstance(line, bytearray):
            return bytes(line)
    return None


def sent_folder_of(response: aioimaplib.Response) -> str | None:
    """The folder a LIST answer marks `\\Sent` (RFC 6154), if any."""
    for line in response.lines:
        found = _LIST_LINE.match(bytes(line))
        if found and b"\\sent" in found.group("flags").lower():
            return found.group("name").decode(errors="replace").strip('"')
    return None


def folder_names(response: aioimaplib.Response) -> set[str]:
    names = set()
    for line in response.lines:
        found = _LIST_LINE.match(bytes(line))
        if found:
            names.add(found.group("name").decode(errors="replace").strip('"'))
    return names
