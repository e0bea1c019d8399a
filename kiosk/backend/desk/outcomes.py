"""What the front desk answers: an outcome (new or a replay), a refusal the errors map, or a
step between its transactions (wait for a pending credential, or issue a reserved one)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kiosk.backend.provisioning.base import NetworkCredential
from kiosk.protocol import CheckinResponse, MemberStatus


class MemberNotFound(Exception):
    """No member with that card (or the text is not a member card at all)."""


class MemberNotAllowed(Exception):
    """An expired or blocked member asked for internet access."""

    def __init__(self, status: MemberStatus) -> None:
        super().__init__(status.value)
        self.status = status


class ClientRefConflict(Exception):
    """The client_ref was used before with a different body."""


class SurveyRefReused(ClientRefConflict):
    """A survey's client_ref used before with other answers: the SKM API answers anything but
    a new survey or its replay with 422, where a visit's conflict is a 409."""


class AnswersTooLarge(ValueError):
    """The guestbook answers exceed [backend] max_answers_bytes."""


@dataclass(frozen=True)
class Outcome:
    """The answer to a visit or check-in, and whether it is a replay (200) or new (201)."""

    response: CheckinResponse
    replay: bool
    # The response as JSON when the desk has already encoded it (to store it), so the
    # route sends those bytes instead of encoding the same answer again.
    body: str = ""

    def json(self) -> str:
        return self.body or self.response.model_dump_json()


@dataclass(frozen=True)
class WaitForPending:
    """Another request of this member has a credential at the network side right now."""


@dataclass(frozen=True)
class Reserved:
    """A pending credential row, to be issued on the network side and then confirmed."""

    credential_id: int
    network: NetworkCredential
    issued_at: dt.datetime
