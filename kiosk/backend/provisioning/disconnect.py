"""Ending a patron's live Wi-Fi sessions: RFC 5176 Disconnect-Requests to the NAS for each open
session in radacct, on revoke, erase and expiry, in the background, retried, each answer logged."""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import os
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.config.internet import RadiusNas

log = logging.getLogger("kiosk.backend.provisioning.disconnect")

DISCONNECT_REQUEST, DISCONNECT_ACK, DISCONNECT_NAK = 40, 41, 42
USER_NAME, FRAMED_IP_ADDRESS, ACCT_SESSION_ID, ERROR_CAUSE = 1, 8, 44, 101
TRIES, WAIT_SECONDS = 3, 2.0


@dataclass(frozen=True)
class OpenSession:
    """A radacct row without a stop: who, on which NAS, with which session id and address."""

    username: str
    session_id: str
    nas_address: str
    framed_ip: str


def _attribute(kind: int, value: bytes) -> bytes:
    return struct.pack("!BB", kind, len(value) + 2) + value[:253]


def disconnect_request(session: OpenSession, identifier: int, secret: bytes) -> bytes:
    """The packet: User-Name, Acct-Session-Id and (when known) Framed-IP-Address, with the
    Request Authenticator MD5(code, id, length, 16 zeros, attributes, secret) of RFC 5176."""
    attributes = _attribute(USER_NAME, session.username.encode()) + _attribute(
        ACCT_SESSION_ID, session.session_id.encode()
    )
    if session.framed_ip:
        try:
            packed = ipaddress.IPv4Address(session.framed_ip).packed
        except ValueError:
            packed = b""
        if packed:
            attributes += _attribute(FRAMED_IP_ADDRESS, packed)
    header = struct.pack("!BBH", DISCONNECT_REQUEST, identifier, 20 + len(attributes))
    authenticator = hashlib.md5(header + bytes(16) + attributes + secret).digest()
    return header + authenticator + attributes


def answer_of(reply: bytes, request: bytes, secret: bytes) -> str:
    """ "ack", "nak (Error-Cause N)" or why the reply is not a true answer to `request`."""
    if len(reply) < 20:
        return "garbage (too short)"
    code, identifier, length = struct.unpack("!BBH", reply[:4])
    if identifier != request[1] or length > len(reply) or length < 20:
        return "garbage (not an answer to this request)"
    expected = hashlib.md5(reply[:4] + request[4:20] + reply[20:length] + secret).digest()
    if expected != reply[4:20]:
        return "garbage (wrong authenticator: is the secret the NAS's?)"
    if code == DISCONNECT_ACK:
        return "ack"
    if code == DISCONNECT_NAK:
        # Error-Cause, when it comes first: a 4-octet integer (503: session not found).
        cause = (
            reply[22:26] if len(reply) >= 26 and reply[20:22] == bytes((ERROR_CAUSE, 6)) else b""
        )
        return f"nak (Error-Cause {int.from_bytes(cause, 'big')})" if cause else "nak"
    return f"garbage (code {code})"


class Disconnector:
    """Sends the Disconnect-Requests of a revoke on a thread of its own: the revoke never
    waits for a NAS. `sent` records each session's outcome for the tests; `keep` is told each
    outcome and its number of tries (the provisioner keeps them for the console)."""

    def __init__(
        self, nas: list[RadiusNas], keep: Callable[[OpenSession, str, int], None] | None = None
    ) -> None:
        self.nas = {entry.address: entry for entry in nas}
        self.keep = keep
        self.sent: list[tuple[OpenSession, str]] = []
        self._done = threading.Condition()
        self._threads: list[threading.Thread] = []

    def end(self, sessions: list[OpenSession]) -> threading.Thread | None:
        if not sessions:
            return None
        thread = threading.Thread(target=self._end_all, args=(sessions,), daemon=True)
        thread.start()
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        return thread

    def finish(self, timeout: float) -> None:
        """Wait (up to `timeout` each) for the Disconnect-Requests under way: a command
        that exits, or an erasure that then deletes their outcomes too."""
        for thread in list(self._threads):
            thread.join(timeout)

    def wait_for(self, count: int, timeout: float) -> bool:
        """Whether `count` outcomes are recorded (now or within `timeout`)."""
        with self._done:
            return self._done.wait_for(lambda: len(self.sent) >= count, timeout)

    def _end_all(self, sessions: list[OpenSession]) -> None:
        for session in sessions:
            outcome, tries = self._end(session)
            if self.keep is not None:
                self.keep(session, outcome, tries)
            with self._done:
                self.sent.append((session, outcome))
                self._done.notify_all()

    def _end(self, session: OpenSession) -> tuple[str, int]:
        nas = self.nas.get(session.nas_address)
        if nas is None:
            log.warning(
                "disconnect %s session %r: NAS %s is not in [[provisioning.radius.nas]]; "
                "the session lasts until the NAS ends it",
                session.username, session.session_id, session.nas_address,
            )  # fmt: skip
            return "no nas", 0
        secret = nas.secret.encode()
        request = disconnect_request(session, os.urandom(1)[0], secret)
        attempt, outcome = 0, "timeout"
        while outcome == "timeout" and attempt < TRIES:
            attempt += 1
            outcome = self._send(request, (nas.address, nas.coa_port), secret)
        log_line = log.info if outcome == "ack" else log.warning
        log_line(
            "disconnect %s session %r at %s:%d: %s after %d %s",
            session.username, session.session_id, nas.address, nas.coa_port, outcome,
            attempt, "try" if attempt == 1 else "tries",
        )  # fmt: skip
        return outcome, attempt

    @staticmethod
    def _send(request: bytes, address: tuple[str, int], secret: bytes) -> str:
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.settimeout(WAIT_SECONDS)
            try:
                sock.sendto(request, address)
                while True:
                    reply, _ = sock.recvfrom(4096)
                    outcome = answer_of(reply, request, secret)
                    if not outcome.startswith("garbage"):
                        return outcome
                    log.warning("disconnect: ignored a reply from %s: %s", address[0], outcome)
            except TimeoutError:
                return "timeout"
            except OSError as exc:
                return f"unreachable ({exc.strerror or exc})"
