"""The satisfaction survey's rules (SKM): whom to ask and when, the answers, the anonymous body."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kiosk import protocol

ELEMENTS = protocol.SKM_ELEMENTS
SCORES = (1, 2, 3, 4)


def patron_key(who: str, salt: str) -> str:
    """Who answered, as the kiosk remembers it to not ask again: a salted hash (the salt
    stays on this kiosk), never the member number or the guest's name itself."""
    return hashlib.sha256(f"{salt}\n{who.strip().casefold()}".encode()).hexdigest()[:32]


@dataclass
class SurveyPolicy:
    """Ask at most once per patron per `every_days` ([skm] ask_every_days), never when off.
    `asked` maps patron keys to the day they were last asked (kept in the kiosk's state)."""

    enabled: bool = True
    every_days: int = 90
    salt: str = ""
    asked: dict[str, str] = field(default_factory=dict)

    def may_ask(self, who: str, today: dt.date) -> bool:
        if not self.enabled or not who.strip():
            return False
        last = self.asked.get(patron_key(who, self.salt))
        if last is None:
            return True
        try:
            return (today - dt.date.fromisoformat(last)).days >= self.every_days
        except ValueError:
            return True

    def mark(self, who: str, today: dt.date) -> None:
        """Remember the patron was asked today; forget those asked long enough ago."""
        self.asked[patron_key(who, self.salt)] = today.isoformat()
        cutoff = today - dt.timedelta(days=self.every_days)
        self.asked = {k: d for k, d in self.asked.items() if d >= cutoff.isoformat()}


@dataclass
class SurveyRun:
    """One patron's survey: which element is on screen (9: done) and the scores given."""

    profile: dict[str, str] = field(default_factory=dict)
    index: int = 0
    scores: dict[str, int] = field(default_factory=dict)

    @property
    def element(self) -> str | None:
        return ELEMENTS[self.index] if self.index < len(ELEMENTS) else None

    @property
    def done(self) -> bool:
        return self.index >= len(ELEMENTS)

    def answer(self, score: int) -> None:
        element = self.element
        if element is not None and score in SCORES:
            self.scores[element] = score
            self.index += 1

    def skip(self) -> None:
        if not self.done:
            self.index += 1

    def stop(self) -> None:
        self.index = len(ELEMENTS)


def profile_of(answers: Mapping[str, Any]) -> dict[str, str]:
    """The respondent's profile from their guestbook answers: occupation, education and
    gender where asked; nothing else (never the institution, a name or a number)."""
    return {
        key: value
        for key in protocol.SKM_PROFILE_KEYS
        if isinstance(value := answers.get(key), str) and value and len(value) <= 80
    }


def survey_body(
    run: SurveyRun, *, client_ref: str, kiosk_id: str, occurred_at: dt.datetime
) -> protocol.SatisfactionRequest | None:
    """The POST /satisfaction body, None when no element was answered (nothing to send)."""
    if not run.scores:
        return None
    return protocol.SatisfactionRequest.model_validate(
        {
            "client_ref": client_ref,
            "kiosk_id": kiosk_id,
            "occurred_at": occurred_at,
            "answers": dict(run.scores),
            "profile": dict(run.profile),
        }
    )
