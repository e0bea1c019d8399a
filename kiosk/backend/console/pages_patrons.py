"""The console's patron pages: Visits (Kunjungan), Members (Anggota), Akses internet."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable

import segno
import sqlalchemy as sa
from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from markupsafe import Markup

from kiosk.backend.console.pages_usage import member_use
from kiosk.backend.console.web import (
    PREFIX,
    Console,
    changing,
    console_of,
    language_of,
    log_change,
    render,
    see_other,
    staff_of,
)
from kiosk.backend.db import CredentialRow, MemberRow, VisitRow, read_session, write_session
from kiosk.backend.desk.credentials import revoke_credential
from kiosk.backend.desk.outcomes import MemberNotAllowed, MemberNotFound
from kiosk.backend.library.members import effective_status
from kiosk.backend.provisioning import ProvisioningUnavailable
from kiosk.protocol import COUNTER_KIOSK_ID, CheckinRequest, Credential

PER_PAGE = 50


router = APIRouter(prefix=PREFIX)


@router.get("/visits")
def visits(
    request: Request,
    start: str = "",
    end: str = "",
    member: str = "",
    kiosk: str = "",
    page: int = 0,
) -> Response:
    console = console_of(request)
    staff = staff_of(console, request)
    query = sa.select(VisitRow)
    try:
        if start:
            query = query.where(VisitRow.local_day >= dt.date.fromisoformat(start))
        if end:
            query = query.where(VisitRow.local_day <= dt.date.fromisoformat(end))
        error = ""
    except ValueError:
        error = "reports.error.period"
    if member.strip():
        query = query.where(VisitRow.member_id == member.strip())
    if kiosk.strip():
        query = query.where(VisitRow.kiosk_id == kiosk.strip())
    page = max(page, 0)
    with read_session(console.engine) as session:
        total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
        rows = list(
            session.scalars(
                query.order_by(VisitRow.occurred_at.desc()).offset(page * PER_PAGE).limit(PER_PAGE)
            )
        )
        ids = {row.member_id for row in rows}
        names = dict(
            session.execute(sa.select(MemberRow.id, MemberRow.name).where(MemberRow.id.in_(ids)))
            .tuples()
            .all()
        )
    return render(
        console,
        request,
        "visits.html",
        staff,
        status=400 if error else 200,
        error=error,
        rows=rows,
        total=total,
        page=page,
        pages=max((total - 1) // PER_PAGE + 1, 1),
        start=start,
        end=end,
        member=member,
        kiosk=kiosk,
        names=names,
        answers=_labelled(console, language_of(request)),
    )


@router.get("/visits/{visit_id}")
def visit_detail(request: Request, visit_id: int) -> Response:
    console = console_of(request)
    staff = staff_of(console, request)
    with read_session(console.engine) as session:
        row = session.get(VisitRow, visit_id)
        member = session.get(MemberRow, row.member_id) if row else None
    if row is None:
        return render(console, request, "not_found.html", staff, 404)
    return render(
        console,
        request,
        "visit.html",
        staff,
        row=row,
        member=member,
        answers=_answers(row),
        fields=console.current().guestbook.fields,
    )


@router.get("/members")
def members(request: Request, q: str = "") -> Response:
    console = console_of(request)
    staff = staff_of(console, request)
    rows: list[MemberRow] = []
    text = q.strip()
    if text:
        with read_session(console.engine) as session:
            rows = list(
                session.scalars(
                    sa.select(MemberRow)
                    .where(sa.or_(MemberRow.id == text, MemberRow.name.ilike(f"%{text}%")))
                    .order_by(MemberRow.name)
                    .limit(PER_PAGE)
                )
            )
    return render(
        console,
        request,
        "members.html",
        staff,
        q=q,
        rows=rows,
        status_of=member_status_of(console),
        preview=None,
        errors=[],
    )


@router.get("/members/{member_id}")
def member_detail(request: Request, member_id: str) -> Response:
    console = console_of(request)
    staff = staff_of(console, request)
    with read_session(console.engine) as session:
        member = session.get(MemberRow, member_id)
        visit_rows = list(
            session.scalars(
                sa.select(VisitRow)
                .where(VisitRow.member_id == member_id)
                .order_by(VisitRow.occurred_at.desc())
                .limit(PER_PAGE)
            )
        )
        credential_rows = list(
            session.scalars(
                sa.select(CredentialRow)
                .where(CredentialRow.member_id == member_id, CredentialRow.pending.is_(False))
                .order_by(CredentialRow.issued_at.desc())
                .limit(PER_PAGE)
            )
        )
    if member is None:
        return render(console, request, "not_found.html", staff, 404)
    usernames = {row.username for row in credential_rows}
    return render(
        console,
        request,
        "member.html",
        staff,
        **member_use(console, usernames),
        member=member,
        member_status=member_status_of(console)(member),
        visits=visit_rows,
        credentials=credential_rows,
        now=console.clock(),
        answers=_labelled(console, language_of(request)),
    )


@router.get("/credentials")
def credentials(request: Request, notice: str = "") -> Response:
    console = console_of(request)
    staff = staff_of(console, request)
    now = console.clock()
    with read_session(console.engine) as session:
        rows = session.execute(
            sa.select(CredentialRow, MemberRow.name)
            .join(MemberRow, MemberRow.id == CredentialRow.member_id)
            .where(
                CredentialRow.revoked.is_(False),
                CredentialRow.pending.is_(False),
                CredentialRow.expires_at > now,
            )
            .order_by(CredentialRow.issued_at.desc())
            .limit(500)
        ).all()
    return render(console, request, "credentials.html", staff, rows=rows, notice=notice, errors=[])


@router.post("/credentials/revoke")
def revoke(request: Request, csrf: str = Form(""), username: str = Form("")) -> Response:
    console = console_of(request)
    staff = changing(console, request, csrf)
    with write_session(console.engine) as session:
        changed = revoke_credential(session, username)
    notice = "credentials.revoked" if changed else "credentials.none_revoked"
    try:
        console.desk.provisioner.revoke(username)
    except ProvisioningUnavailable:
        notice = "credentials.revoked_later"  # the reconciler removes it when it can
    log_change(console, request, staff, "credential.revoke", f"username={username} rows={changed}")
    return see_other(f"{PREFIX}/credentials?notice={notice}")


@router.post("/credentials/issue")
def issue(request: Request, csrf: str = Form(""), member_id: str = Form("")) -> Response:
    console = console_of(request)
    staff = changing(console, request, csrf)
    body = CheckinRequest(
        client_ref=uuid.uuid4(),
        card=member_id.strip() or "-",
        answers={},
        want_internet=True,
        kiosk_id=COUNTER_KIOSK_ID,
        occurred_at=console.clock(),
    )
    try:
        outcome = console.desk.record(body, allow_credential=True)
    except (MemberNotFound, MemberNotAllowed, ProvisioningUnavailable) as exc:
        key = {
            MemberNotFound: "credentials.error.not_found",
            MemberNotAllowed: "credentials.error.not_allowed",
        }
        return render(
            console,
            request,
            "credentials.html",
            staff,
            400,
            rows=[],
            notice="",
            errors=[key.get(type(exc), "credentials.error.network")],
            member_id=member_id,
        )
    credential = outcome.response.credential
    assert credential is not None
    log_change(
        console,
        request,
        staff,
        "credential.issue",
        f"member={outcome.response.visit.member_id} username={credential.username} "
        f"reused={credential.reused}",
    )
    with read_session(console.engine) as session:
        row_id = session.scalar(
            sa.select(CredentialRow.id)
            .where(
                CredentialRow.username == credential.username,
                CredentialRow.revoked.is_(False),
                CredentialRow.pending.is_(False),
            )
            .order_by(CredentialRow.id.desc())
            .limit(1)
        )
    # Post/redirect/get: reloading the slip shows it again, it does not issue (or count) again.
    return see_other(
        f"{PREFIX}/credentials/{row_id}/slip" + ("?reused=1" if credential.reused else "")
    )


@router.get("/credentials/{credential_id}/slip")
def slip(request: Request, credential_id: int, reused: str = "") -> Response:
    console = console_of(request)
    staff = staff_of(console, request)
    with read_session(console.engine) as session:
        row = session.get(CredentialRow, credential_id)
    if row is None or row.revoked or row.pending or row.expires_at <= console.clock():
        return render(console, request, "not_found.html", staff, 404)
    credential = Credential(
        username=row.username, password=row.password, expires_at=row.expires_at, reused=bool(reused)
    )
    library = console.current().library
    qr = segno.make(library.wifi_qr(credential.username, credential.password), error="m")
    return render(
        console,
        request,
        "slip.html",
        staff,
        credential=credential,
        member_id=row.member_id,
        ssid=library.wifi_ssid,
        login_url=library.login_url,
        qr=Markup(qr.svg_inline(scale=5, dark="#000", light="#fff")),
    )


def _answers(row: VisitRow) -> dict[str, object]:
    try:
        data = json.loads(row.answers)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _labelled(console: Console, language: str) -> Callable[[VisitRow], list[str]]:
    """A visit's answers as the reader sees them on the kiosk: each choice's label, not its
    key (a key no longer configured shows as it was stored)."""
    labels = {
        (f.key, c.key): c.label.get(language)
        for f in console.current().guestbook.fields
        for c in f.choices
    }

    order = {f.key: n for n, f in enumerate(console.current().guestbook.fields)}

    def labelled(row: VisitRow) -> list[str]:
        answers = sorted(_answers(row).items(), key=lambda item: order.get(item[0], len(order)))
        return [
            labels.get((key, str(value)), str(value))
            for key, value in answers
            if value not in (None, "")
        ]

    return labelled


def member_status_of(console: Console) -> Callable[[MemberRow], str]:
    today = console.today()

    def status(row: MemberRow) -> str:
        return effective_status(row.status, row.expires_on, today).value

    return status
