"""A stand-in NAS on loopback that answers RFC 5176 Disconnect-Requests (decoded with pyrad, an
implementation of its own): ACK, NAK, silence or garbage, as a test tells it."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

from pyrad.dictionary import Dictionary
from pyrad.packet import CoAPacket, DisconnectACK, DisconnectNAK, DisconnectRequest

SECRET = b"nas-coa-secret"
DICTIONARY = """\
ATTRIBUTE User-Name 1 string
ATTRIBUTE Framed-IP-Address 8 ipaddr
ATTRIBUTE Acct-Session-Id 44 string
ATTRIBUTE Error-Cause 101 integer
"""


class StandInNas:
    """A NAS's RFC 5176 listener: checks each Disconnect-Request's authenticator and answers
    as told ("ack", "nak", "silent" or "garbage")."""

    def __init__(self, tmp_path: Path, mode: str = "ack") -> None:
        (tmp_path / "nas.dictionary").write_text(DICTIONARY, encoding="utf-8")
        self.dictionary = Dictionary(str(tmp_path / "nas.dictionary"))
        self.mode = mode
        self.requests: list[dict[str, object]] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self._received = threading.Condition()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            packet = CoAPacket(secret=SECRET, dict=self.dictionary, packet=data)
            assert packet.code == DisconnectRequest and packet.VerifyCoARequest()
            with self._received:
                self.requests.append({key: packet[key][0] for key in packet.keys()})
                self._received.notify_all()
            if self.mode == "silent":
                continue
            if self.mode == "garbage":
                self.sock.sendto(b"\x29" + data[1:2] + b"\x00\x14" + bytes(16), peer)
                continue
            reply = packet.CreateReply()
            reply.code = DisconnectACK if self.mode == "ack" else DisconnectNAK
            if self.mode == "nak":
                reply["Error-Cause"] = 503  # Session Context Not Found
            self.sock.sendto(reply.ReplyPacket(), peer)

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        with self._received:
            return self._received.wait_for(lambda: len(self.requests) >= count, timeout)

    def close(self) -> None:
        self.sock.close()
