"""CLI handlers of the backend: `kiosk backend`, `members import`, `provisioning sync`, `backup`,
`kiosks add`."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from sqlalchemy.orm import Session

from kiosk.config import Settings

NO_TOKEN_MESSAGE = (
    "kiosk backend: refusing to start: [backend] api_tokens is empty. Every kiosk needs a "
    "bearer token of at least 16 characters; make one with\n"
    "  python -c 'import secrets; print(secrets.token_urlsafe(24))'\n"
    "and put it in [backend] api_tokens and in that kiosk's [kiosk] api_token."
)


def cmd_backend(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from kiosk.backend.app import create_app
    from kiosk.backend.db import create_db_engine, migrate
    from kiosk.logs import setup_logging

    backend = settings.backend
    if not backend.api_tokens:
        print(NO_TOKEN_MESSAGE, file=sys.stderr)
        return 2
    host = args.host or backend.host
    port = args.port if args.port is not None else backend.port
    workers = args.workers or backend.workers
    # The flag wins over the file everywhere, the limits' per-worker shares included.
    backend = backend.model_copy(update={"workers": workers})
    settings = settings.model_copy(update={"backend": backend})
    setup_logging(backend.log_dir, "backend")
    # Once, before any worker starts, so workers never race to create tables.
    engine = create_db_engine(backend.database_url, pool_size=1)
    try:
        migrate(engine)
    finally:
        engine.dispose()
    from kiosk.backend.api.connections import (
        ENVIRONMENT,
        BoundedHttpToolsProtocol,
        limits_for_environment,
    )

    # Read by every worker's protocol (uvicorn spawns them: class attributes do not carry).
    os.environ[ENVIRONMENT] = limits_for_environment(
        backend.max_connections,
        backend.max_connections_per_address,
        backend.header_timeout_seconds,
        backend.proxy_addresses,
    )

    common = {
        "host": host,
        "port": port,
        "log_config": None,
        "access_log": False,
        "http": BoundedHttpToolsProtocol,
        # The kiosk's address from X-Forwarded-For, believed only from the reverse proxy.
        "proxy_headers": True,
        "forwarded_allow_ips": ",".join(backend.proxy_addresses),
    }
    if workers == 1:
        uvicorn.run(create_app(settings, run_migrations=False), **common)  # type: ignore[arg-type]
        return 0
    from kiosk.backend.metrics import end_multiprocess_dir, start_multiprocess_dir

    config_path = Path(args.config) if args.config else Path("config.toml")
    if config_path.exists():
        os.environ["KIOSK_CONFIG"] = str(config_path.resolve())
    os.environ["KIOSK_WORKERS"] = str(workers)
    # Every worker counts into files here; a scrape of any worker sums them all.
    metrics_dir = start_multiprocess_dir(Path(backend.log_dir).parent)
    try:
        uvicorn.run(
            "kiosk.backend.app:app_from_environment",
            factory=True,
            workers=workers,
            **common,  # type: ignore[arg-type]
        )
    finally:
        end_multiprocess_dir(metrics_dir)
    return 0


def cmd_members_import(args: argparse.Namespace, settings: Settings) -> int:
    from kiosk.backend.db import create_db_engine, migrate
    from kiosk.backend.library.gender import member_genders
    from kiosk.backend.library.members import MemberFileError, import_members, read_members_file
    from kiosk.cards import CardReader

    path: Path = args.file
    try:
        genders = member_genders(settings)
        parsed = read_members_file(path, CardReader(settings.cards.pattern), genders)
    except MemberFileError as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 1
    for problem in parsed.problems:
        print(f"{path}: {problem}", file=sys.stderr)
    if parsed.problems and not args.skip_invalid:
        print(
            f"{path}: nothing imported: {len(parsed.problems)} bad row(s); fix them, or import "
            "the good rows with --skip-invalid",
            file=sys.stderr,
        )
        return 1
    if parsed.problems and args.replace:
        print(
            f"{path}: nothing imported: --replace would delete the members on the "
            f"{len(parsed.problems)} bad row(s); fix the file first",
            file=sys.stderr,
        )
        return 1
    if args.replace and not parsed.records:
        print(
            f"{path}: nothing imported: the file has no members, and --replace would delete "
            "every member; check that it is the right file",
            file=sys.stderr,
        )
        return 1
    engine = create_db_engine(settings.backend.database_url, pool_size=1)
    try:
        migrate(engine)
        with Session(engine.execution_options(kiosk_write=True)) as session:
            session.begin()
            result = import_members(
                session, parsed.records, replace=args.replace, now=dt.datetime.now(dt.UTC)
            )
            if args.dry_run:
                session.rollback()
            else:
                session.commit()
    finally:
        engine.dispose()
    skipped = f", {len(parsed.problems)} bad row(s) skipped" if parsed.problems else ""
    verb = "would import (dry run, nothing written)" if args.dry_run else "imported"
    print(
        f"{path}: {verb} {len(parsed.records)} member(s): {result.added} added, "
        f"{result.updated} updated, {result.unchanged} unchanged, {result.deleted} deleted"
        f"{skipped}"
    )
    return 0


def cmd_provisioning_sync(args: argparse.Namespace, settings: Settings) -> int:
    from kiosk.backend.db import create_db_engine, migrate
    from kiosk.backend.desk.network_sync import reconcile_once
    from kiosk.backend.provisioning import ProvisioningUnavailable, build_provisioner

    engine = create_db_engine(settings.backend.database_url, pool_size=1)
    provisioner = build_provisioner(settings.provisioning, settings.internet)
    try:
        migrate(engine)
        report = reconcile_once(engine, provisioner, dt.datetime.now(dt.UTC))
    except ProvisioningUnavailable as exc:
        print(f"provisioning sync: {provisioner.name} unavailable: {exc}", file=sys.stderr)
        return 1
    finally:
        provisioner.close()
        engine.dispose()
    print(f"provisioning sync ({provisioner.name}): {report}")
    return 0


def cmd_network_radius_config(args: argparse.Namespace, settings: Settings) -> int:
    from kiosk.backend.provisioning.radius_config import write_radius_config

    if settings.provisioning.kind != "freeradius-sql":
        print(
            "kiosk network radius-config: [provisioning] kind must be 'freeradius-sql' "
            f"(it is {settings.provisioning.kind!r}): FreeRADIUS reads the credentials from "
            "[provisioning] database_url",
            file=sys.stderr,
        )
        return 2
    written, warnings = write_radius_config(args.outdir, settings.provisioning)
    print(f"kiosk network radius-config: wrote {len(written)} files in {args.outdir}")
    for warning in warnings:
        print(f"kiosk network radius-config: note: {warning}")
    print(f"run: freeradius -f -d {args.outdir.resolve()}  (-X for a debug log)")
    return 0


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from kiosk.backend.backup import BackupError, backup_database

    destination: Path = args.destination
    if destination.exists():
        print(f"kiosk backup: {destination} already exists; choose a new name", file=sys.stderr)
        return 1
    try:
        how = backup_database(settings.backend.database_url, destination)
    except BackupError as exc:
        print(f"kiosk backup: {exc}", file=sys.stderr)
        return 1
    print(f"kiosk backup: wrote {destination} ({how})")
    return 0


KIOSK_ID_RULE = "lowercase letters, digits and dashes, at most 64, e.g. lobi-1"
LOCATION_RULE = "lowercase letters, digits and dashes, at most 32, e.g. ruang-baca"


def cmd_kiosks_add(args: argparse.Namespace, settings: Settings) -> int:
    """`kiosk kiosks add KIOSK_ID [--location CODE]`: print a one-time enrollment code."""
    import getpass
    import re

    from kiosk.backend import enrollment, kiosks
    from kiosk.backend.console import audit
    from kiosk.backend.db import create_db_engine, migrate, write_session
    from kiosk.protocol import LOCATION_PATTERN

    kiosk_id, location = args.kiosk_id.strip().lower(), args.location.strip().lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", kiosk_id):
        print(f"kiosk kiosks add: {kiosk_id!r} is not a kiosk id: {KIOSK_ID_RULE}", file=sys.stderr)
        return 2
    if not re.fullmatch(LOCATION_PATTERN, location):
        print(f"kiosk kiosks add: {location!r} is not a location: {LOCATION_RULE}", file=sys.stderr)
        return 2
    engine = create_db_engine(settings.backend.database_url, pool_size=1)
    try:
        migrate(engine)
        now = dt.datetime.now(dt.UTC)
        try:  # the audit log's "who": the system account that ran the command
            made_by = f"cli:{getpass.getuser()}"
        except OSError:
            made_by = "cli"
        with write_session(engine) as session:
            code, row = enrollment.make_code(session, kiosk_id, location, made_by, now)
            detail = f"kiosk={kiosk_id} location={location or '-'} code={row.id}"
            audit.record(session, made_by, "-", "kiosk.code_made", detail, now)
            expires = row.expires_at
    except kiosks.KioskExists:
        print(
            f"kiosk kiosks add: kiosk {kiosk_id} is registered already; revoke it in the "
            "console's Kios page first to enroll a new machine under its id",
            file=sys.stderr,
        )
        return 1
    finally:
        engine.dispose()
    print(code)
    print(
        f"kiosk kiosks add: one-time code for {kiosk_id}"
        f"{' at ' + location if location else ''}, valid until "
        f"{expires.isoformat(timespec='minutes')}: on the kiosk type it on the setup screen, "
        f"or run: kiosk enroll BACKEND_URL {code}",
        file=sys.stderr,
    )
    return 0
