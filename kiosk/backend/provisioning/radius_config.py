"""The FreeRADIUS configuration the project writes: a directory `freeradius -f -d DIR` runs as
it is, on the kiosk's RADIUS database, with the library's rules on the network."""

from __future__ import annotations

import os
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from kiosk.backend.provisioning.radius_policy import DAILY_LIMIT
from kiosk.config import ConfigError, ProvisioningSettings


@dataclass(frozen=True)
class FreeRadiusInstall:
    """Where Debian's freeradius package keeps what the written configuration includes."""

    etc: Path = Path("/etc/freeradius/3.0")
    modules: Path = Path("/usr/lib/freeradius")
    dictionaries: Path = Path("/usr/share/freeradius")

    def queries(self, dialect: str) -> Path:
        return self.etc / "mods-config" / "sql" / "main" / dialect / "queries.conf"


DEBIAN = FreeRadiusInstall()
CERTIFICATE = Path("certs") / "server.pem"
PRIVATE_KEY = Path("certs") / "server.key"

# Online seconds since the day began (%%b, the counter's reset, midnight in the server's
# zone) over the user's sessions: a closed one by its length, an open one up to now. Debian's
# SQLite counter query uses GREATEST, which SQLite does not have; FreeRADIUS's SQLite
# queries store acctstarttime as epoch seconds.
DAILY_QUERIES = {
    "sqlite": (
        "SELECT COALESCE(SUM(MAX(0, "
        "(CASE WHEN acctstoptime IS NULL "
        "THEN MAX(CAST(strftime('%%s', 'now') AS INTEGER), "
        "acctstarttime + COALESCE(acctsessiontime, 0)) "
        "ELSE acctstarttime + COALESCE(acctsessiontime, 0) END) "
        "- MAX(acctstarttime, %%b))), 0) "
        "FROM radacct WHERE username = '%{${key}}' "
        "AND (acctstoptime IS NULL OR acctstarttime + COALESCE(acctsessiontime, 0) > %%b)"
    ),
    "postgresql": (
        "SELECT COALESCE(SUM(GREATEST(0, "
        "(CASE WHEN acctstoptime IS NULL "
        "THEN GREATEST(EXTRACT(EPOCH FROM NOW()), "
        "EXTRACT(EPOCH FROM acctstarttime) + COALESCE(acctsessiontime, 0)) "
        "ELSE EXTRACT(EPOCH FROM acctstarttime) + COALESCE(acctsessiontime, 0) END) "
        "- GREATEST(EXTRACT(EPOCH FROM acctstarttime), %%b))), 0)::bigint "
        "FROM radacct WHERE username = '%{${key}}' "
        "AND (acctstoptime IS NULL "
        "OR EXTRACT(EPOCH FROM acctstarttime) + COALESCE(acctsessiontime, 0) > %%b)"
    ),
    "mysql": (
        "SELECT COALESCE(SUM(GREATEST(0, "
        "(CASE WHEN acctstoptime IS NULL "
        "THEN GREATEST(UNIX_TIMESTAMP(), "
        "UNIX_TIMESTAMP(acctstarttime) + COALESCE(acctsessiontime, 0)) "
        "ELSE UNIX_TIMESTAMP(acctstarttime) + COALESCE(acctsessiontime, 0) END) "
        "- GREATEST(UNIX_TIMESTAMP(acctstarttime), %%b))), 0) "
        "FROM radacct WHERE username = '%{${key}}' "
        "AND (acctstoptime IS NULL "
        "OR UNIX_TIMESTAMP(acctstarttime) + COALESCE(acctsessiontime, 0) > %%b)"
    ),
}


def sql_module(database_url: str, install: FreeRadiusInstall) -> str:
    """rlm_sql on the kiosk's RADIUS database: the driver, the connection, the stock queries."""
    try:
        url = make_url(database_url)
    except ArgumentError as exc:
        raise ConfigError(f"provisioning.database_url: not a database URL ({exc})") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        dialect, driver = "sqlite", "rlm_sql_sqlite"
        connection = SQLITE_CONNECTION.format(filename=url.database)
    elif backend in ("postgresql", "mysql", "mariadb"):
        dialect = "postgresql" if backend == "postgresql" else "mysql"
        driver = f"rlm_sql_{dialect}"
        port = url.port or (5432 if dialect == "postgresql" else 3306)
        connection = (
            f'    server = "{url.host or "localhost"}"\n    port = {port}\n'
            f'    login = "{url.username or ""}"\n    password = "{url.password or ""}"\n'
            f'    radius_db = "{url.database or "radius"}"'
        )
    else:
        raise ConfigError(
            f"provisioning.database_url: FreeRADIUS reads SQLite, PostgreSQL or MySQL/MariaDB, "
            f"not {backend!r}"
        )
    if dialect == "sqlite":
        # Debian's (3.2.1) SQLite verify query compares username with the group attribute, so
        # no open session was ever confirmed and Simultaneous-Use let every device in. The
        # first definition wins: this one stands before the stock queries are included.
        connection += "\n" + SQLITE_SIMUL_VERIFY
    return SQL_MODULE.format(
        dialect=dialect, driver=driver, connection=connection, queries=install.queries(dialect)
    ) + DAILY_COUNTER.format(dialect=dialect, check=DAILY_LIMIT, query=DAILY_QUERIES[dialect])


def radiusd_conf(
    settings: ProvisioningSettings,
    directory: Path,
    install: FreeRadiusInstall,
    certificate: Path | None = None,
    private_key: Path | None = None,
) -> str:
    """The whole radiusd.conf: server, listeners, NAS clients, modules and the one server."""
    radius = settings.radius
    if not radius.clients:
        raise ConfigError(
            "provisioning.radius.clients: name at least one NAS (the hotspot router or access "
            'point), e.g. [[provisioning.radius.clients]] address = "192.168.88.1" secret = "..."'
        )
    clients = "\n".join(
        CLIENT.format(
            name=client.name or f"nas{number}", address=client.address, secret=client.secret
        )
        for number, client in enumerate(radius.clients, start=1)
    )
    return RADIUSD_CONF.format(
        raddb=directory,
        libdir=install.modules,
        reject_delay=radius.reject_delay,
        listen=radius.listen_address,
        auth_port=radius.auth_port,
        acct_port=radius.acct_port,
        clients=clients,
        nas_clock=NAS_CLOCK,
        nas_clock_log=NAS_CLOCK_LOG,
        sql=sql_module(settings.database_url, install),
        checks=CHECKS,
        eap=EAP_MODULE.format(
            certificate=certificate or directory / CERTIFICATE,
            private_key=private_key or directory / PRIVATE_KEY,
        ),
    )


def eap_certificate(settings: ProvisioningSettings, directory: Path) -> tuple[Path, Path, str]:
    """(certificate, private key, warning): the configured pair, or a self-signed one made in
    `directory` the first time (kept on later writes: the patrons' devices remember it)."""
    radius = settings.radius
    if radius.certificate or radius.private_key:
        pair = Path(radius.certificate), Path(radius.private_key)
        for key, path in zip(("certificate", "private_key"), pair, strict=True):
            if not path.is_file():
                raise ConfigError(f"provisioning.radius.{key}: no such file {str(path)!r}")
        return pair[0], pair[1], ""
    certificate, private_key = directory / CERTIFICATE, directory / PRIVATE_KEY
    if not (certificate.is_file() and private_key.is_file()):
        certificate.parent.mkdir(mode=0o700, exist_ok=True)
        made = subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
             "-subj", f"/CN={socket.getfqdn()}", "-keyout", str(private_key),
             "-out", str(certificate)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        if made.returncode != 0:
            raise ConfigError(f"EAP certificate: openssl failed: {made.stderr.strip()[-300:]}")
        private_key.chmod(0o600)
    warning = (
        f"EAP (802.1X) uses a self-signed certificate, {certificate}: devices warn once when "
        "they first connect; set [provisioning.radius] certificate and private_key to use "
        "the library's own"
    )
    return certificate, private_key, warning


def write_radius_config(
    directory: Path, settings: ProvisioningSettings, install: FreeRadiusInstall = DEBIAN
) -> tuple[list[Path], list[str]]:
    """Write the configuration into `directory` (created, owner-only: it holds the NAS secrets
    and the database password); return the files written and what the operator should know."""
    directory = directory.resolve()
    radiusd_conf(settings, directory, install)  # refuses a wrong setting before anything is made
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    for sub in ("log", "run", "radacct"):
        (directory / sub).mkdir(exist_ok=True)
    certificate, private_key, warning = eap_certificate(settings, directory)
    text = radiusd_conf(settings, directory, install, certificate, private_key)
    written = []
    for name, content in (
        ("radiusd.conf", text),
        ("dictionary", f"$INCLUDE {install.dictionaries}/dictionary\n"),
    ):
        path = directory / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(content)
        path.chmod(0o600)
        written.append(path)
    return written, [warning] if warning else []


# Who may log in, the same in the outer server and inside the EAP tunnel.
CHECKS = """\
    authorize {
        chap
        mschap
        # 802.1X: an EAP conversation under way goes on without the rest.
        eap {
            ok = return
        }
        sql
        expiration
        dailycounter
        pap
    }
    authenticate {
        Auth-Type PAP {
            pap
        }
        Auth-Type CHAP {
            chap
        }
        Auth-Type MS-CHAP {
            mschap
        }
        eap
    }
"""

# The daily counter measures sessions by this server's clock: a NAS whose clock is off (a
# router without NTP) would give an open session hours it never had, or none. Its time is
# replaced by ours (less the delay it states), and a skew past 5 minutes is logged.
NAS_CLOCK = """\
        if (&Event-Timestamp && ((&Event-Timestamp > "%{expr:%l + 300}") || \
(&Event-Timestamp < "%{expr:%l - 300 - %{%{Acct-Delay-Time}:-0}}"))) {
            nas_clock
        }
        update request {
            &Event-Timestamp := "%{expr:%l - %{%{Acct-Delay-Time}:-0}}"
        }
"""

NAS_CLOCK_LOG = """\
    # One line per accounting packet from a NAS whose clock is off: log/nas.log.
    linelog nas_clock {
        destination = file
        filename = ${logdir}/nas.log
        permissions = 0600
        format = "%S NAS %{NAS-IP-Address} clock is off by %{expr:%{integer:Event-Timestamp} \
- %l} s (user %{User-Name}, session %{Acct-Session-Id}): its accounting is timed by this server"
    }"""

SQLITE_SIMUL_VERIFY = """\
    simul_verify_query = "SELECT radacctid, acctsessionid, username, nasipaddress, nasportid, \\
framedipaddress, callingstationid, framedprotocol FROM radacct a \\
LEFT OUTER JOIN nasreload n USING (nasipaddress) WHERE username = '%{SQL-User-Name}' \\
AND acctstoptime IS NULL AND (a.acctstarttime > n.reloadtime OR n.reloadtime IS NULL)"
"""

SQLITE_CONNECTION = """\
    sqlite {{
        filename = "{filename}"
        busy_timeout = 2000
    }}"""

SQLITE_CONNECTION = """\
    sqlite {{
        filename = "{filename}"
        busy_timeout = 2000
    }}"""

CLIENT = """\
client {name} {{
    ipaddr = {address}
    secret = "{secret}"
    require_message_authenticator = no
}}"""

SQL_MODULE = """\
sql {{
    dialect = "{dialect}"
    driver = "{driver}"
{connection}
    radius_db = "radius"
    acct_table1 = "radacct"
    acct_table2 = "radacct"
    postauth_table = "radpostauth"
    authcheck_table = "radcheck"
    groupcheck_table = "radgroupcheck"
    authreply_table = "radreply"
    groupreply_table = "radgroupreply"
    usergroup_table = "radusergroup"
    read_groups = yes
    read_clients = no
    delete_stale_sessions = yes
    client_table = "nas"
    group_attribute = "SQL-Group"
    pool {{
        start = 1
        min = 1
        max = 8
        spare = 2
        uses = 0
        retry_delay = 1
        lifetime = 0
        idle_timeout = 60
    }}
    $INCLUDE {queries}
}}
"""

DAILY_COUNTER = """\
sqlcounter dailycounter {{
    sql_module_instance = sql
    dialect = "{dialect}"
    counter_name = Daily-Session-Time
    check_name = {check}
    reply_name = Session-Timeout
    key = User-Name
    reset = daily
    query = "{query}"
}}
"""

RADIUSD_CONF = """\
# Written by `kiosk network radius-config`: run with `freeradius -f -d {raddb}`.
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
raddbdir = {raddb}
confdir = {raddb}
logdir = {raddb}/log
run_dir = {raddb}/run
db_dir = {raddb}
radacctdir = {raddb}/radacct
libdir = {libdir}
pidfile = {raddb}/run/radiusd.pid
name = freeradius
max_request_time = 10
cleanup_delay = 0
max_requests = 4096
hostname_lookups = no

log {{
    destination = stdout
    colourise = no
    auth = yes
}}

security {{
    allow_core_dumps = no
    max_attributes = 200
    reject_delay = {reject_delay}
    status_server = yes
}}

thread pool {{
    start_servers = 2
    max_servers = 16
    min_spare_servers = 1
    max_spare_servers = 4
    max_requests_per_server = 0
    auto_limit_acct = no
}}

{clients}

policy {{
    # One accounting row per session: the stock queries key radacct on it.
    acct_unique {{
        update request {{
            &Acct-Unique-Session-Id := "%{{md5:%{{User-Name}},%{{Acct-Session-ID}},\
%{{NAS-IP-Address}},%{{NAS-Identifier}},%{{NAS-Port}}}}"
        }}
    }}
}}

modules {{
    always ok {{
        rcode = ok
    }}
    pap {{
        normalise = yes
    }}
    chap {{
    }}
    mschap {{
    }}
    expiration {{
    }}
{nas_clock_log}
    # %{{tolower:...}} in the stock SQL queries comes from rlm_expr.
    expr {{
    }}
{sql}
{eap}
}}

server default {{
    listen {{
        type = auth
        ipaddr = {listen}
        port = {auth_port}
    }}
    listen {{
        type = acct
        ipaddr = {listen}
        port = {acct_port}
    }}
{checks}    preacct {{
        acct_unique
{nas_clock}    }}
    accounting {{
        sql
    }}
    # Simultaneous-Use: the open sessions in radacct.
    session {{
        sql
    }}
    # No `sql` in post-auth: FreeRADIUS's stock query would keep every login attempt with
    # its password in radpostauth.
    post-auth {{
        ok
        Post-Auth-Type REJECT {{
            ok
        }}
    }}
}}

# The password check inside PEAP (MS-CHAPv2) and TTLS (PAP): the same credentials and rules,
# from SQL; its reply (speed, idle, Session-Timeout) is the one the access point gets
# (use_tunneled_reply), since the outer round that answers never reaches `sql`.
server inner-tunnel {{
{checks}    session {{
        sql
    }}
    post-auth {{
        ok
        Post-Auth-Type REJECT {{
            ok
        }}
    }}
}}
"""

EAP_MODULE = """\
    eap {{
        default_eap_type = peap
        timer_expire = 60
        ignore_unknown_eap_types = no
        cisco_accounting_username_bug = no
        max_sessions = ${{max_requests}}
        tls-config tls-common {{
            private_key_file = {private_key}
            certificate_file = {certificate}
            ca_file = {certificate}
            cipher_list = "DEFAULT"
            cipher_server_preference = no
            tls_min_version = "1.2"
            tls_max_version = "1.2"
            ecdh_curve = ""
            cache {{
                enable = no
            }}
            verify {{
            }}
            ocsp {{
                enable = no
            }}
        }}
        peap {{
            tls = tls-common
            default_eap_type = mschapv2
            copy_request_to_tunnel = no
            use_tunneled_reply = yes
            virtual_server = "inner-tunnel"
        }}
        ttls {{
            tls = tls-common
            default_eap_type = md5
            copy_request_to_tunnel = no
            use_tunneled_reply = yes
            virtual_server = "inner-tunnel"
        }}
        mschapv2 {{
        }}
        md5 {{
        }}
    }}"""
