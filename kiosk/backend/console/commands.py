"""`kiosk staff add|passwd|disable|enable|list`: the console's accounts from the command line."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys

from kiosk.backend.console import accounts
from kiosk.backend.console.login_limits import held_back_names
from kiosk.backend.console.sessions import close_account_sessions
from kiosk.backend.db import create_db_engine, migrate, read_session, write_session
from kiosk.config import Settings


def _password_twice() -> str | None:
    """Hidden prompts on a terminal, else two lines of standard input (like set-pin)."""
    if sys.stdin.isatty():
        first = getpass.getpass(f"New password ({accounts.MIN_PASSWORD}+ characters): ")
        second = getpass.getpass("The same password again: ")
    else:
        lines = [sys.stdin.readline() for _ in range(2)]
        if not all(lines):
            print("kiosk staff: expected the password twice on standard input", file=sys.stderr)
            return None
        first, second = (line.rstrip("\r\n") for line in lines)
    if first != second:
        print("kiosk staff: the two passwords differ; nothing changed", file=sys.stderr)
        return None
    return first


def cmd_staff(args: argparse.Namespace, settings: Settings) -> int:
    engine = create_db_engine(settings.backend.database_url, pool_size=1)
    try:
        migrate(engine)
        return _run(args, engine)
    except accounts.AccountError as exc:
        print(f"kiosk staff: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()


def _run(args: argparse.Namespace, engine: object) -> int:
    from sqlalchemy.engine import Engine

    assert isinstance(engine, Engine)
    action = args.staff_command
    now = dt.datetime.now(dt.UTC)
    if action == "list":
        with read_session(engine) as session:
            rows = accounts.all_accounts(session)
            held = held_back_names(session, [row.username for row in rows], now)
        for row in rows:
            state = "disabled" if row.disabled else "enabled"
            if row.username in held:
                state += ", held back (wrong passwords)"
            last = row.last_login.isoformat(timespec="minutes") if row.last_login else "never"
            print(f"{row.username}\t{row.role}\t{state}\tlast login {last}")
        return 0
    username = args.username.strip().lower()
    if action in ("disable", "enable"):
        with write_session(engine) as session:
            accounts.set_disabled(session, username, action == "disable")
            found = accounts.find_account(session, username)
            if found is not None and action == "disable":
                close_account_sessions(session, found.id)
        print(f"kiosk staff: {username} {action}d")
        return 0
    if action == "add":
        with read_session(engine) as session:
            if accounts.find_account(session, username) is not None:
                raise accounts.AccountError(
                    f"there is already an account {username!r}", "accounts.error.exists"
                )
    password = _password_twice()
    if password is None:
        return 1
    with write_session(engine) as session:
        if action == "add":
            accounts.add_account(session, username, password, args.role, now)
        else:
            accounts.set_password(session, username, password)
    done = f"added as {args.role}" if action == "add" else "password changed"
    print(f"kiosk staff: {username}: {done}")
    return 0
