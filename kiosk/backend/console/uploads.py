"""Member files in the console: checked (a preview), kept in the database until imported
(every backend instance finds them, and no form field carries the file back), imported."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from kiosk.backend.console.pages_patrons import member_status_of
from kiosk.backend.console.sessions import StaffSession
from kiosk.backend.console.tables import MemberUploadRow
from kiosk.backend.console.web import PREFIX, Console, changing, console_of, log_change, render
from kiosk.backend.db import read_session, write_session
from kiosk.backend.library.gender import member_genders
from kiosk.backend.library.members import MemberFileError, import_members, parse_members_csv

KEPT_FOR = dt.timedelta(hours=1)
MAX_UPLOAD = 16 * 1024 * 1024  # 100,000 members with every column fit
SHOWN_PROBLEMS = 100  # the preview lists these; the rest are counted

router = APIRouter(prefix=PREFIX)


def keep_upload(
    session: Session, account_id: int, filename: str, data: bytes, now: dt.datetime
) -> str:
    """Keep this account's checked file (replacing its previous one); its id for the form."""
    session.execute(
        sa.delete(MemberUploadRow).where(
            sa.or_(
                MemberUploadRow.account_id == account_id,
                MemberUploadRow.created_at < now - KEPT_FOR,
            )
        )
    )
    upload_id = secrets.token_urlsafe(24)
    session.add(
        MemberUploadRow(
            id=upload_id, account_id=account_id, filename=filename, data=data, created_at=now
        )
    )
    return upload_id


def kept_upload(
    session: Session, upload_id: str, account_id: int, now: dt.datetime
) -> tuple[str, bytes] | None:
    """(file name, bytes) of this account's kept file, or None: unknown, someone else's,
    older than an hour, or already imported."""
    row = session.get(MemberUploadRow, upload_id) if upload_id else None
    if row is None or row.account_id != account_id or now - row.created_at > KEPT_FOR:
        return None
    return row.filename, row.data


def forget_upload(session: Session, upload_id: str) -> None:
    session.execute(sa.delete(MemberUploadRow).where(MemberUploadRow.id == upload_id))


def _members_page(
    console: Console, request: Request, staff: StaffSession, status: int = 200, **context: Any
) -> Response:
    context = {"preview": None, "errors": [], "upload": "", "filename": "", **context}
    return render(
        console,
        request,
        "members.html",
        staff,
        status,
        q="",
        rows=[],
        status_of=member_status_of(console),
        shown_problems=SHOWN_PROBLEMS,
        **context,
    )


@router.post("/members/upload")
def upload(request: Request, csrf: str = Form(""), file: UploadFile = File(...)) -> Response:  # noqa: B008
    console = console_of(request)
    staff = changing(console, request, csrf)
    data = file.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        return _members_page(console, request, staff, 400, errors=["members.error.too_large"])
    try:
        preview = parse_members_csv(data, console.desk.cards, member_genders(console.settings))
    except MemberFileError as exc:
        return _members_page(console, request, staff, 400, errors=[(exc.key, exc.values)])
    filename = (file.filename or "")[:255]
    with write_session(console.engine) as session:
        upload_id = keep_upload(session, staff.account_id, filename, data, console.clock())
    return _members_page(
        console, request, staff, preview=preview, upload=upload_id, filename=filename
    )


@router.post("/members/import")
def do_import(
    request: Request,
    csrf: str = Form(""),
    upload: str = Form(""),
    skip_invalid: str = Form(""),
) -> Response:
    console = console_of(request)
    staff = changing(console, request, csrf)
    with read_session(console.engine) as session:
        kept = kept_upload(session, upload, staff.account_id, console.clock())
    if kept is None:
        return _members_page(console, request, staff, 400, errors=["members.error.upload_gone"])
    filename, data = kept
    try:
        parsed = parse_members_csv(data, console.desk.cards, member_genders(console.settings))
    except MemberFileError:
        return _members_page(console, request, staff, 400, errors=["members.error.file"])
    if parsed.problems and not skip_invalid:
        return _members_page(
            console,
            request,
            staff,
            400,
            preview=parsed,
            errors=["members.error.fix_or_skip"],
            upload=upload,
            filename=filename,
        )
    with write_session(console.engine) as session:
        result = import_members(session, parsed.records, replace=False, now=console.clock())
        forget_upload(session, upload)
    log_change(
        console,
        request,
        staff,
        "members.import",
        f"{filename}: added={result.added} updated={result.updated} skipped={len(parsed.problems)}",
    )
    return _members_page(console, request, staff, result=result, skipped=len(parsed.problems))
