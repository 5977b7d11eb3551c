"""A throwaway PostgreSQL server for the tests and the sources bench (never a mock).

:func:`running_server` runs Debian's ``initdb`` and ``pg_ctl`` on a fresh temporary folder and a
free port on 127.0.0.1 (its unix socket inside that folder), creates one password-protected role
and database, yields a :class:`PostgresServer`, then stops the server and removes the folder.
PostgreSQL refuses to run as root: under root, the server runs as the ``postgres`` system user
(created by Debian's package), or as a ``winback-postgres`` system user created on first use.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

ROLE, PASSWORD, DATABASE = "winback", "s3cret-Pa55", "shop"
_SERVICE_USERS = ("postgres", "winback-postgres")


def postgres_bin() -> Path:
    """The folder of ``initdb`` and ``pg_ctl``: on PATH, else the newest Debian install."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not versions:
        raise RuntimeError(
            "PostgreSQL's initdb was not found (PATH, /usr/lib/postgresql/*/bin): install it with "
            "`apt-get install -y postgresql` (make install and .ci/run do this)."
        )
    return versions[-1].parent


@dataclass(frozen=True)
class PostgresServer:
    """A running server: connect as ``role``/``password`` to ``database`` on 127.0.0.1:``port``."""

    root: Path
    port: int
    bin: Path
    run_as: str | None
    role: str = ROLE
    password: str = PASSWORD
    database: str = DATABASE

    def url(self, *, password: bool = True, database: str | None = None) -> str:
        """``postgresql://role[:password]@127.0.0.1:port/database``."""
        secret = f":{self.password}" if password else ""
        return f"postgresql://{self.role}{secret}@127.0.0.1:{self.port}/{database or self.database}"

    def psql(self, *args: str, stdin: bytes | BinaryIO | None = None) -> str:
        """Run ``psql`` against the database over TCP with the password; return its stdout.

        ``stdin`` (bytes or an open binary file) feeds ``\\copy ... FROM pstdin``."""
        stream = isinstance(stdin, bytes | None)
        completed = subprocess.run(
            [str(self.bin / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", *args],
            input=stdin if stream else None,
            stdin=None if stream else stdin,
            capture_output=True,
            check=False,
            env={**os.environ, **self.environment()},
        )
        if completed.returncode:
            raise RuntimeError(f"psql {args}: {completed.stderr.decode(errors='replace')}")
        return completed.stdout.decode()

    def environment(self) -> dict[str, str]:
        """libpq's variables for this server, password included (``PGPASSWORD``)."""
        return {
            "PGHOST": "127.0.0.1",
            "PGPORT": str(self.port),
            "PGUSER": self.role,
            "PGDATABASE": self.database,
            "PGPASSWORD": self.password,
        }


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _service_user() -> str | None:
    """None when not root; else an unprivileged system user to run the server as."""
    if os.geteuid() != 0:
        return None
    for name in _SERVICE_USERS:
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    add = [
        "useradd",
        "--system",
        "--user-group",
        "--no-create-home",
        "--shell",
        "/usr/sbin/nologin",
    ]
    subprocess.run([*add, _SERVICE_USERS[-1]], check=True)
    return _SERVICE_USERS[-1]


def _run(command: list[str], run_as: str | None) -> None:
    full = ["runuser", "-u", run_as, "--", *command] if run_as else command
    completed = subprocess.run(full, capture_output=True, check=False)
    if completed.returncode:
        raise RuntimeError(
            f"{' '.join(command[:2])} failed: {completed.stderr.decode(errors='replace')}"
        )


@contextlib.contextmanager
def running_server(**settings: str) -> Iterator[PostgresServer]:
    """Start a server (extra ``postgres -c`` settings as keywords), yield it, stop and remove it."""
    bin_dir, run_as = postgres_bin(), _service_user()
    root = Path(tempfile.mkdtemp(prefix="winback-pg-"))  # under /tmp: reachable by run_as
    try:
        (root / "pw").write_text(PASSWORD + "\n")
        (root / "sock").mkdir()
        if run_as:
            for path in (root, root / "pw", root / "sock"):
                shutil.chown(path, user=run_as)
        initdb = [str(bin_dir / "initdb"), "-D", str(root / "data"), "-U", ROLE]
        auth = [f"--pwfile={root / 'pw'}", "--auth-local=trust", "--auth-host=scram-sha-256"]
        _run([*initdb, *auth, "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"], run_as)
        port = _free_port()
        options = {
            "listen_addresses": "127.0.0.1",
            "port": str(port),
            "unix_socket_directories": str(root / "sock"),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            **settings,
        }
        flags = " ".join(f"-c {key}={value}" for key, value in options.items())
        pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(root / "data"), "-w"]
        _run([*pg_ctl, "-l", str(root / "server.log"), "-o", flags, "start"], run_as)
        server = PostgresServer(root=root, port=port, bin=bin_dir, run_as=run_as)
        try:
            server.psql("-d", "postgres", "-c", f"CREATE DATABASE {DATABASE}")
            yield server
        finally:
            _run([*pg_ctl, "-m", "fast", "stop"], run_as)
    finally:
        shutil.rmtree(root, ignore_errors=True)
