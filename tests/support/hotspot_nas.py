"""A hotspot router (NAS) on loopback as FreeRADIUS sees one: logs devices in with a username and
password and accounts for their sessions (pyrad), with its own secret and clock."""

from __future__ import annotations

import time
from pathlib import Path

from pyrad.client import Client, Timeout
from pyrad.dictionary import Dictionary
from pyrad.packet import AccessAccept, AccessRequest, AccountingResponse

# What a hotspot sends and reads, by number (pyrad needs them; vendors as FreeRADIUS's own).
DICTIONARY = """\
ATTRIBUTE User-Name 1 string
ATTRIBUTE User-Password 2 string encrypt=1
ATTRIBUTE NAS-IP-Address 4 ipaddr
ATTRIBUTE Framed-IP-Address 8 ipaddr
ATTRIBUTE Reply-Message 18 string
ATTRIBUTE Session-Timeout 27 integer
ATTRIBUTE Idle-Timeout 28 integer
ATTRIBUTE Calling-Station-Id 31 string
ATTRIBUTE NAS-Identifier 32 string
ATTRIBUTE Acct-Status-Type 40 integer
VALUE Acct-Status-Type Start 1
VALUE Acct-Status-Type Stop 2
VALUE Acct-Status-Type Interim-Update 3
ATTRIBUTE Acct-Input-Octets 42 integer
ATTRIBUTE Acct-Output-Octets 43 integer
ATTRIBUTE Acct-Session-Id 44 string
ATTRIBUTE Acct-Session-Time 46 integer
ATTRIBUTE Event-Timestamp 55 date
VENDOR Mikrotik 14988
ATTRIBUTE Mikrotik-Rate-Limit 8 string Mikrotik
VENDOR WISPr 14122
ATTRIBUTE WISPr-Bandwidth-Max-Up 7 integer WISPr
ATTRIBUTE WISPr-Bandwidth-Max-Down 8 integer WISPr
"""


class NoAnswer(Exception):
    """FreeRADIUS kept silent (as it does for a packet it will not trust)."""


class HotspotNas:
    """One NAS at 127.0.0.1 talking to FreeRADIUS's auth and acct ports with `secret`."""

    def __init__(
        self, auth_port: int, acct_port: int, secret: str, directory: Path, timeout: float = 5
    ) -> None:
        dictionary = directory / "hotspot.dictionary"
        dictionary.write_text(DICTIONARY, encoding="utf-8")
        self.client = Client(
            server="127.0.0.1",
            authport=auth_port,
            acctport=acct_port,
            secret=secret.encode(),
            dict=Dictionary(str(dictionary)),
        )
        self.client.timeout = timeout
        self.client.retries = 1

    def login(self, username: str, password: str, mac: str) -> tuple[bool, dict[str, object]]:
        request = self.client.CreateAuthPacket(code=AccessRequest, User_Name=username)
        request["User-Password"] = request.PwCrypt(password)
        request["NAS-IP-Address"] = "127.0.0.1"
        request["Calling-Station-Id"] = mac
        reply = self._send(request)
        return reply.code == AccessAccept, {key: reply[key][0] for key in reply.keys()}

    def account(
        self,
        username: str,
        status: str,
        session: str,
        seconds: int = 0,
        octets: int = 0,
        clock: float | None = None,
    ) -> bool:
        """One Accounting-Request; True when FreeRADIUS answered it (it recorded it), False when
        it kept silent (it answers only what it has written).
        `clock`: the NAS's own time (Event-Timestamp), for a NAS whose clock is off."""
        request = self.client.CreateAcctPacket(User_Name=username)
        request["Acct-Status-Type"] = status
        request["Acct-Session-Id"] = session
        request["Acct-Session-Time"] = seconds
        request["Acct-Input-Octets"] = octets
        request["Acct-Output-Octets"] = octets
        request["NAS-IP-Address"] = "127.0.0.1"
        request["Framed-IP-Address"] = "10.5.50.23"
        request["Calling-Station-Id"] = "AA-BB-CC-00-00-01"
        request["Event-Timestamp"] = int(time.time() if clock is None else clock)
        try:
            return self._send(request).code == AccountingResponse
        except NoAnswer:
            return False

    def _send(self, request: object) -> object:
        try:
            return self.client.SendPacket(request)
        except Timeout:
            raise NoAnswer("FreeRADIUS did not answer") from None
