"""CLI handlers for the library's system: `kiosk members sync` and `kiosk members writeback`."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from zoneinfo import ZoneInfo

from kiosk.config import Settings


def cmd_members_sync(args: argparse.Namespace, settings: Settings) -> int:
    """Copy the library's whole member table into the local copy (nightly, first install)."""
    from kiosk.backend.db import create_db_engine, migrate
    from kiosk.backend.library.gender import member_genders
    from kiosk.backend.library.link import (
        LibraryRefused,
        LibraryUnavailable,
        note_contact,
        sync_members,
    )
    from kiosk.backend.library.source import build_source

    members = settings.members
    if members.source == "local":
        print(
            "members sync: [members] source is 'local' (CSV): use kiosk members import FILE",
            file=sys.stderr,
        )
        return 1
    # A whole-table copy may take longer than one patron's lookup may wait.
    timeout = max(members.lookup_timeout, 30.0)
    settings = settings.with_overrides(members={"lookup_timeout": timeout})
    try:
        genders = member_genders(settings)
        source = build_source(settings.members, ZoneInfo(settings.backend.timezone), genders)
    except ValueError as exc:
        print(f"members sync: {exc}", file=sys.stderr)
        return 1
    assert source is not None
    engine = create_db_engine(settings.backend.database_url, pool_size=1)
    try:
        migrate(engine)
        synced = sync_members(source, engine, dt.datetime.now(dt.UTC))
        # A real contact: a running backend's /health follows it.
        note_contact(engine, source.name, dt.datetime.now(dt.UTC))
    except (LibraryUnavailable, LibraryRefused) as exc:
        if isinstance(exc, LibraryUnavailable):
            note_contact(engine, source.name, dt.datetime.now(dt.UTC), error=str(exc))
        print(f"members sync: {source.name} database: {exc}", file=sys.stderr)
        return 1
    finally:
        source.close()
        engine.dispose()
    counts = synced.counts
    total = sum(counts.values())
    left_out = f", {len(synced.unreadable)} left out" if synced.unreadable else ""
    print(
        f"members sync ({source.name}): {total} member(s): {counts['added']} added, "
        f"{counts['updated']} updated, {counts['unchanged']} unchanged{left_out}"
    )
    for member in synced.unreadable:  # the rest are copied; these wait for staff in the library
        print(f"left out: member {member.id!r}: {member.reason}")
    return 0


def cmd_members_writeback(args: argparse.Namespace, settings: Settings) -> int:
    """How many visits wait for the library's guestbook table; --retry-failed requeues."""
    from kiosk.backend.db import create_db_engine, migrate
    from kiosk.backend.library import writeback

    engine = create_db_engine(settings.backend.database_url, pool_size=1)
    try:
        migrate(engine)
        requeued = writeback.retry_failed(engine) if args.retry_failed else 0
        backlog = writeback.backlog(engine)
    finally:
        engine.dispose()
    if args.retry_failed:
        print(f"members writeback: {requeued} visit(s) set aside put back in the queue")
    oldest = backlog.oldest_waiting.isoformat(timespec="seconds") if backlog.oldest_waiting else "-"
    print(
        f"members writeback ({settings.members.source}): {backlog.waiting} waiting "
        f"(oldest {oldest}), {backlog.failed} set aside"
    )
    if backlog.last_error:
        print(f"last error: {backlog.last_error}")
    return 1 if backlog.failed else 0
