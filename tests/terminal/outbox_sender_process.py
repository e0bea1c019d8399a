"""A kiosk-side sender as its own process, for the SIGKILL test: `python outbox_sender_process.py
OUTBOX BACKEND_URL TOKEN`. Prints "sending <client_ref>" (flushed) just before each send."""

from __future__ import annotations

import sys

from kiosk import protocol
from kiosk.config import KioskSettings
from kiosk.terminal.client import BackendClient
from kiosk.terminal.outbox import Outbox
from kiosk.terminal.outbox_sender import OutboxSender


class AnnouncingClient(BackendClient):
    def send_visit(self, request: protocol.VisitRequest) -> protocol.VisitResponse:
        print(f"sending {request.client_ref}", flush=True)
        answer = super().send_visit(request)
        print(f"sent {request.client_ref}", flush=True)
        return answer


def main() -> int:
    outbox_path, url, token = sys.argv[1:4]
    settings = KioskSettings(backend_url=url, api_token=token, read_timeout=60.0)
    outbox = Outbox(outbox_path)
    sender = OutboxSender(outbox, AnnouncingClient(settings))
    sender.send_due()
    print(f"done {outbox.pending_count()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
