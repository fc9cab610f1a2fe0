"""A real IMAP server (dovecot, rootless, on a free port) and a real SMTP server
(aiosmtpd) for the email channel's tests, plus a mail client's side of the mailbox
(stdlib imaplib: what the owner's phone or a contact's server does)."""

from __future__ import annotations

import atexit
import contextlib
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
MISSING = (
    "dovecot is not installed: the email tests need a real IMAP server. `.ci/run` installs "
    "it (apt-get install dovecot-imapd); do the same here"
)
PASSWORD = "secret"
USERS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Dovecot:
    """dovecot on 127.0.0.1:`port`, users `user0`..`user59` with password `secret`,
    run as `nobody` when started by root (its login process refuses root)."""

    folder: Path
    port: int = 0
    process_user: str = ""
    _next: int = 0

    def start(self) -> None:
        if not os.path.exists(DOVECOT):
            raise RuntimeError(MISSING)
        self.port = free_port()
        root = os.geteuid() == 0
        user = "nobody" if root else pwd.getpwuid(os.geteuid()).pw_name
        group = "nogroup" if root else _group_of(user)
        self.process_user = user
        for sub in ("run", "state", "mail"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        (self.folder / "passwd").write_text(
            "".join(f"user{n}:{{PLAIN}}{PASSWORD}\n" for n in range(USERS))
        )
        d = self.folder
        (d / "dovecot.conf").write_text(
            f"""protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_failure_delay = 0
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
mail_location = maildir:{d}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={d}/mail/%u
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""
        )
        command = [DOVECOT, "-c", str(d / "dovecot.conf")]
        if root:
            subprocess.run(["chown", "-R", f"{user}:{group}", str(d)], check=True)
            command = ["runuser", "-u", user, "--", *command]
        # dovecot daemonizes: its output goes nowhere a pipe would keep open
        started = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=30,
        )
        if started.returncode != 0:
            log = d / "dovecot.log"
            said = log.read_text()[-500:] if log.exists() else "no log"
            raise RuntimeError(f"dovecot did not start (exit {started.returncode}): {said}")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1),
            ):
                return
            time.sleep(0.05)
        raise RuntimeError(f"dovecot did not start: {(d / 'dovecot.log').read_text()[-500:]}")

    def stop(self) -> None:
        """Stop the daemon and remove its folder; safe to call twice."""
        pid_file = self.folder / "run" / "master.pid"
        with contextlib.suppress(OSError, ValueError):
            pid = int(pid_file.read_text().strip())
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except OSError:
                    break
                time.sleep(0.05)
            else:
                # Still shutting down (a login it was delaying): end it and its children.
                with contextlib.suppress(OSError):
                    os.killpg(pid, signal.SIGKILL)
        shutil.rmtree(self.folder, ignore_errors=True)

    def new_user(self) -> str:
        """A mailbox no other test has touched."""
        name = f"user{self._next}"
        self._next += 1
        if self._next > USERS:
            raise RuntimeError("out of test mailboxes: raise USERS")
        return name

    def kick(self, user: str) -> None:
        """Cut every IMAP connection of `user`, as a server restart or a network drop."""
        subprocess.run(
            ["doveadm", "-c", str(self.folder / "dovecot.conf"), "kick", user],
            check=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=10,
        )


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    password = getattr(auth_data, "password", b"")
    return AuthResult(success=password in (PASSWORD, PASSWORD.encode()))


def _group_of(user: str) -> str:
    import grp

    return grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name


def start_dovecot() -> Dovecot:
    folder = Path(tempfile.mkdtemp(prefix="twin-dovecot-", dir="/tmp"))
    folder.chmod(0o755)
    server = Dovecot(folder)
    # Stopped by the fixture; and at exit whatever happens to the session (an
    # interrupted run must not leave a daemon behind).
    atexit.register(server.stop)
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    return server


class Mailbox:
    """One account on the test dovecot, as a mail client sees it."""

    def __init__(self, port: int, user: str) -> None:
        self.port = port
        self.user = user

    def _session(self) -> imaplib.IMAP4:
        session = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        session.login(self.user, PASSWORD)
        return session

    def deliver(self, mail: EmailMessage | bytes, folder: str = "INBOX") -> None:
        """Put `mail` in `folder`, as the server delivering it (or a client filing it)."""
        data = mail if isinstance(mail, bytes) else bytes(mail)
        session = self._session()
        try:
            if folder != "INBOX":
                session.create(f'"{folder}"')  # fails harmlessly when it exists
            stamp = imaplib.Time2Internaldate(time.time())
            status, _ = session.append(f'"{folder}"', "", stamp, data)
            assert status == "OK", status
        finally:
            session.logout()

    def messages(self, folder: str = "INBOX") -> list[EmailMessage]:
        session = self._session()
        try:
            status, _ = session.select(f'"{folder}"', readonly=True)
            if status != "OK":
                return []
            _, found = session.uid("search", "ALL")
            result: list[EmailMessage] = []
            for uid in found[0].split():
                _, parts = session.uid("fetch", uid, "(BODY.PEEK[])")
                data = next(p[1] for p in parts if isinstance(p, tuple))
                parsed = BytesParser(policy=default).parsebytes(data)
                assert isinstance(parsed, EmailMessage)
                result.append(parsed)
            return result
        finally:
            session.logout()


@dataclass
class Sent:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def mail(self) -> EmailMessage:
        parsed = BytesParser(policy=default).parsebytes(self.data)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class SmtpServer:
    """aiosmtpd on a free port: keeps every mail; mail to an address in `mailboxes` is
    delivered to that mailbox's INBOX, with `stamp` (an Authentication-Results header)
    put on top if set, as the receiving server would."""

    mailboxes: dict[str, Mailbox] = field(default_factory=dict)
    stamp: str | None = None
    received: list[Sent] = field(default_factory=list)
    controller: Any = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data = bytes(envelope.content)
        self.received.append(Sent(envelope.mail_from, list(envelope.rcpt_tos), data))
        for address in envelope.rcpt_tos:
            box = self.mailboxes.get(address.lower())
            if box is not None:
                head = f"Authentication-Results: {self.stamp}\r\n".encode() if self.stamp else b""
                box.deliver(head + data)
        return "250 OK"

    def start(self) -> int:
        self.controller = Controller(
            self,
            hostname="127.0.0.1",
            port=free_port(),
            authenticator=_authenticate,
            auth_require_tls=False,
        )
        self.controller.start()
        return int(self.controller.port)

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()

    def to(self, address: str) -> list[Sent]:
        return [s for s in self.received if address in s.recipients]
