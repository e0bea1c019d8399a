"""Member records: effective status (blocked, expired, active) and the CSV import."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kiosk.backend.db import MemberRow
from kiosk.backend.library.gender import MemberGenders
from kiosk.cards import CardReader, NotAMemberCard
from kiosk.protocol import MemberStatus

REQUIRED_COLUMNS = ("member_id", "name", "status", "expires_on")
OPTIONAL_COLUMNS = ("institution", "birth_date", "gender")
MAX_NAME = 200
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DMY_DATE = re.compile(r"^\d{1,2}/\d{1,2}/\d{4}$")


def effective_status(stored: str, expires_on: dt.date | None, today: dt.date) -> MemberStatus:
    """Blocked wins; a member is active through the whole `expires_on` day, expired after."""
    if stored == MemberStatus.blocked:
        return MemberStatus.blocked
    if stored == MemberStatus.expired or (expires_on is not None and today > expires_on):
        return MemberStatus.expired
    return MemberStatus.active


# ------------------------------------------------------------------ CSV


class MemberFileError(Exception):
    """The file as a whole cannot be read (encoding, header): in English for the command
    line, and as a console catalog key with its values."""

    def __init__(self, message: str, key: str = "members.error.file", **values: object) -> None:
        super().__init__(message)
        self.key = key
        self.values = values


class RowError(ValueError):
    """One row's problem: English text, and a console catalog key with its values."""

    def __init__(self, message: str, key: str, **values: object) -> None:
        super().__init__(message)
        self.key = key
        self.values = values


@dataclass(frozen=True)
class MemberRecord:
    id: str
    name: str
    status: MemberStatus
    expires_on: dt.date | None
    institution: str | None
    # The file's birth_date column (what a typed member number is verified against);
    # without the column, import leaves the birth dates it has as they are.
    birth_date: dt.date | None = None
    has_birth_date: bool = False
    # The file's gender column as the guest form's choice key; without the column, import
    # leaves the genders it has (from a library system or an earlier file) as they are.
    gender: str | None = None
    has_gender: bool = False


@dataclass(frozen=True)
class RowProblem:
    line: int
    reason: str
    key: str = ""
    values: dict[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ParsedFile:
    records: list[MemberRecord] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


def parse_date(text: str) -> dt.date | None:
    """YYYY-MM-DD or DD/MM/YYYY (as Indonesian spreadsheets write it); empty = no expiry."""
    text = text.strip()
    if not text:
        return None
    if _ISO_DATE.match(text):
        return dt.date.fromisoformat(text)
    if _DMY_DATE.match(text):
        day, month, year = (int(part) for part in text.split("/"))
        return dt.date(year, month, day)
    raise ValueError("expected YYYY-MM-DD or DD/MM/YYYY")


def _delimiter(header_line: str) -> str:
    # Spreadsheets set to Indonesian locale export `;` because `,` is the decimal mark.
    return ";" if header_line.count(";") > header_line.count(",") else ","


def parse_members_csv(
    data: bytes, card_reader: CardReader, genders: MemberGenders | None = None
) -> ParsedFile:
    """Validate every row; problems name the file line (the header is line 1). `genders`:
    the guest form's gender keys (library/gender.py member_genders)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MemberFileError(
            f"not UTF-8 (byte {exc.start}); save the spreadsheet as 'CSV UTF-8'",
            "members.file.not_utf8",
            byte=exc.start,
        ) from None
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    try:
        return _parse_rows(reader, card_reader, genders or MemberGenders())
    except csv.Error as exc:  # a field over csv's limit (131072): usually a missing quote
        raise MemberFileError(
            f"line {reader.line_num}: {exc}; is a closing quote missing?",
            "members.file.quote",
            line=reader.line_num,
        ) from None


def _parse_rows(reader: Any, card_reader: CardReader, genders: MemberGenders) -> ParsedFile:
    try:
        header = [column.strip().lower() for column in next(reader)]
    except StopIteration:
        raise MemberFileError("the file is empty", "members.file.empty") from None
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    unknown = [c for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if missing or unknown:
        expected = ",".join(REQUIRED_COLUMNS) + "[,institution][,birth_date][,gender]"
        found = ",".join(header)
        raise MemberFileError(
            f"line 1: header is {found!r}, expected {expected}",
            "members.file.header",
            found=found,
            expected=expected,
        )
    position = {column: index for index, column in enumerate(header)}
    parsed = ParsedFile()
    seen: dict[str, int] = {}
    line = 1
    for row in reader:
        line_start = line + 1
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        try:
            record = _parse_row(row, position, card_reader, genders)
        except ValueError as exc:
            key, values = (exc.key, exc.values) if isinstance(exc, RowError) else ("", {})
            parsed.problems.append(RowProblem(line_start, str(exc), key, values))
            continue
        if record.id in seen:
            first = seen[record.id]
            reason = f"member_id {record.id} repeats line {first}"
            repeat: dict[str, object] = {"id": record.id, "first": first}
            parsed.problems.append(RowProblem(line_start, reason, "members.problem.repeat", repeat))
            continue
        seen[record.id] = line_start
        parsed.records.append(record)
    return parsed


def _parse_row(
    row: list[str], position: dict[str, int], card_reader: CardReader, genders: MemberGenders
) -> MemberRecord:
    if len(row) != len(position):
        raise RowError(
            f"{len(row)} columns, expected {len(position)}",
            "members.problem.columns",
            count=len(row),
            expected=len(position),
        )

    def cell(column: str) -> str:
        return row[position[column]].strip() if column in position else ""

    raw_id = cell("member_id")
    if not raw_id:
        raise RowError("member_id is empty", "members.problem.id_empty")
    try:
        member_id = card_reader.member_id(raw_id)
    except NotAMemberCard:
        raise RowError(
            f"member_id {raw_id!r} does not match [cards] pattern (did the spreadsheet turn it "
            "into a number?)",
            "members.problem.id_pattern",
            value=raw_id,
        ) from None
    name = cell("name")
    if not name:
        raise RowError("name is empty", "members.problem.name_empty")
    if len(name) > MAX_NAME:
        raise RowError(
            f"name longer than {MAX_NAME} characters", "members.problem.name_long", max=MAX_NAME
        )
    status_text = cell("status").lower()
    try:
        status = MemberStatus(status_text)
    except ValueError:
        raise RowError(
            f"status {cell('status')!r}: expected active, expired or blocked",
            "members.problem.status",
            value=cell("status"),
        ) from None
    try:
        expires_on = parse_date(cell("expires_on"))
    except ValueError as exc:
        raise RowError(
            f"expires_on {cell('expires_on')!r}: {exc}",
            "members.problem.expires",
            value=cell("expires_on"),
        ) from None
    institution = cell("institution")[:MAX_NAME] or None
    try:
        birth_date = parse_date(cell("birth_date"))
    except ValueError as exc:
        # Never the value itself: a birth date is personal data, and this reaches logs.
        raise RowError(f"birth_date: {exc}", "members.problem.birth_date") from None
    if birth_date is not None and not dt.date(1900, 1, 1) <= birth_date <= dt.date.today():
        raise RowError("birth_date: not between 1900 and today", "members.problem.birth_range")
    try:
        gender = genders.from_text(cell("gender"))
    except ValueError as exc:
        value = cell("gender")[:20]
        choices = ", ".join(sorted(genders.choices))
        raise RowError(
            f"gender {value!r}: {exc}", "members.problem.gender", value=value, choices=choices
        ) from None
    return MemberRecord(
        member_id,
        name,
        status,
        expires_on,
        institution,
        birth_date=birth_date,
        has_birth_date="birth_date" in position,
        gender=gender,
        has_gender="gender" in position,
    )


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int
    unchanged: int
    deleted: int


def import_members(
    session: Session, records: Iterable[MemberRecord], *, replace: bool, now: dt.datetime
) -> ImportResult:
    """Add and update members; with `replace`, delete those not in `records` (their
    credentials go too; reconciliation then removes them from the network side)."""
    records = list(records)
    existing = {row.id: row for row in session.scalars(sa.select(MemberRow))}
    added = updated = unchanged = 0
    for record in records:
        row = existing.get(record.id)
        values = (record.name, record.status.value, record.expires_on, record.institution)
        born = record.birth_date if record.has_birth_date else (row.birth_date if row else None)
        gender = record.gender if record.has_gender else (row.gender if row else None)
        if row is None:
            session.add(
                MemberRow(
                    id=record.id,
                    name=record.name,
                    status=record.status.value,
                    expires_on=record.expires_on,
                    institution=record.institution,
                    birth_date=born,
                    gender=gender,
                    updated_at=now,
                )
            )
            added += 1
        elif (row.name, row.status, row.expires_on, row.institution) == values and (
            (row.birth_date, row.gender) == (born, gender)
        ):
            unchanged += 1
        else:
            row.name, row.status, row.expires_on, row.institution = values
            row.birth_date, row.gender = born, gender
            row.updated_at = now
            updated += 1
    deleted = 0
    if replace:
        keep = {record.id for record in records}
        gone = [member_id for member_id in existing if member_id not in keep]
        for chunk_start in range(0, len(gone), 500):
            chunk = gone[chunk_start : chunk_start + 500]
            session.execute(sa.delete(MemberRow).where(MemberRow.id.in_(chunk)))
        deleted = len(gone)
    return ImportResult(added, updated, unchanged, deleted)


def read_members_file(
    path: Path, card_reader: CardReader, genders: MemberGenders | None = None
) -> ParsedFile:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MemberFileError(f"cannot read {path}: {exc.strerror}") from None
    return parse_members_csv(data, card_reader, genders)
