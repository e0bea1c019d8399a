"""CLI handlers of members' privacy: `kiosk privacy purge`, `privacy export` and `privacy erase`."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine

from kiosk.config import Settings

log = logging.getLogger("kiosk.backend.privacy")


@contextmanager
def _database(settings: Settings) -> Iterator[Engine]:
    from kiosk.backend.db import create_db_engine, migrate

    engine = create_db_engine(settings.backend.database_url, pool_size=1)
    try:
        migrate(engine)
        yield engine
    finally:
        engine.dispose()


def cmd_privacy_purge(args: argparse.Namespace, settings: Settings) -> int:
    """Apply the retention rules now (the backend does it by itself once a day)."""
    from kiosk.backend.privacy.personal_data import purge
    from kiosk.backend.provisioning import build_provisioner
    from kiosk.backend.provisioning.usage import record_of_use
    from kiosk.logs import setup_logging

    retention = settings.privacy.retention_days
    provisioner = build_provisioner(settings.provisioning, settings.internet)
    record = record_of_use(provisioner)
    try:
        with _database(settings) as engine:
            now = dt.datetime.now(dt.UTC)
            report = purge(engine, retention, now, dry_run=args.dry_run, record=record)
    finally:
        provisioner.close()
    if not args.dry_run:
        setup_logging(settings.backend.log_dir, "backend")
        log.info("privacy purge (command): %s", report)
    verb = "would remove (dry run, nothing changed)" if args.dry_run else "removed"
    print(f"privacy purge: {verb}, with [privacy] retention_days = {retention}:")
    lines: list[tuple[int, str]] = [
        (report.visits_unlinked, f"visits older than {retention} days unlinked from the member"),
        (report.guest_visits_unnamed, f"guest visits older than {retention} days: name removed"),
        (report.passwords_cleared, "passwords of credentials expired over a day ago cleared"),
        (report.credentials_deleted, f"credentials ended over {retention} days ago deleted"),
        (report.replay_answers_cleared, "stored replay answers older than 48 h cleared"),
        (report.writeback_cleared, "library write-back entries cleared or deleted"),
        (
            report.audit_entries_deleted,
            f"console audit entries older than {retention} days deleted",
        ),
        (
            report.console_leftovers_deleted,
            "expired sign-in counts and checked member files deleted",
        ),
    ]
    if record is not None:
        what = f"internet sessions (radacct) older than {retention} days deleted"
        lines.append((report.internet_sessions_deleted, what))
    for count, what in lines:
        print(f"  {count:6d}  {what}")
    return 0


def cmd_privacy_export(args: argparse.Namespace, settings: Settings) -> int:
    """Print everything held about one member as JSON (no passwords)."""
    from kiosk.backend.db import read_session
    from kiosk.backend.privacy.personal_data import export_member
    from kiosk.backend.provisioning import ProvisioningUnavailable, build_provisioner
    from kiosk.backend.provisioning.usage import record_of_use

    member_id = args.member_id.strip()
    provisioner = build_provisioner(settings.provisioning, settings.internet)
    try:
        with _database(settings) as engine, read_session(engine) as session:
            held = export_member(session, member_id, record_of_use(provisioner))
    except ProvisioningUnavailable as exc:
        print(f"privacy export: the internet sessions cannot be read: {exc}", file=sys.stderr)
        return 1
    finally:
        provisioner.close()
    if held is None:
        print(f"privacy export: nothing is held about member {member_id!r}", file=sys.stderr)
        return 1
    print(json.dumps(held, ensure_ascii=False, indent=2))
    return 0


def cmd_privacy_erase(args: argparse.Namespace, settings: Settings) -> int:
    """Remove a member and what is held about them; revoke their credential on the network."""
    from kiosk.backend.privacy.personal_data import erase_member
    from kiosk.backend.provisioning import build_provisioner
    from kiosk.logs import setup_logging

    member_id = args.member_id.strip()
    provisioner = build_provisioner(settings.provisioning, settings.internet)
    try:
        with _database(settings) as engine:
            report = erase_member(engine, provisioner, member_id, dt.datetime.now(dt.UTC))
    finally:
        provisioner.close()
    if report is None:
        print(f"privacy erase: nothing is held about member {member_id!r}", file=sys.stderr)
        return 1
    setup_logging(settings.backend.log_dir, "backend")
    log.info("privacy erase: one member (%s): %s", provisioner.name, report)
    print(f"privacy erase: member {member_id} erased: {report}")
    return 0
