"""What the front desk answers: an outcome (new or a replay), or a refusal the errors map."""

from __future__ import annotations

from dataclasses import dataclass

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


class AnswersTooLarge(ValueError):
    """The guestbook answers exceed [backend] max_answers_bytes."""


@dataclass(frozen=True)
class Outcome:
    """The answer to a visit or check-in, and whether it is a replay (200) or new (201)."""

    response: CheckinResponse
    replay: bool
