"""Real team servers on loopback for the shared-workspace tests and the bench.

PostgreSQL: `initdb` in a temporary folder (password logins, scram-sha-256) and `pg_ctl start`
on a free port; the Enclave schema (rag.pg_schema) is installed by its owner `enclave_admin`,
and each person gets a LOGIN role in `enclave_user`. Run as root (CI containers), the server
runs as the unprivileged `postgres` user (initdb refuses root). Chroma: `chroma run --path TMP
--port FREE`. `missing()` says why a server cannot be started here (the tests skip with it).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ADMIN = "enclave_admin"
ADMIN_PASSWORD = "admin-test-pw"
DB = "enclave"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for base in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (base / name).exists():
            return str(base / name)
    return None


def _run_as() -> list[str]:
    """The prefix that runs a PostgreSQL binary as a non-root user (nothing when not root)."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


def missing() -> str | None:
    """Why the servers cannot be started here, or None."""
    for name in ("initdb", "pg_ctl"):
        if _pg_bin(name) is None:
            return f"PostgreSQL's {name} is not installed (apt: postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run PostgreSQL as"
        if shutil.which("runuser") is None:
            return "running as root and runuser is missing"
    if not (Path(sys.executable).parent / "chroma").exists():
        return "chromadb's `chroma` command is not installed"
    return None


@dataclass
class Postgres:
    folder: Path
    port: int
    users: dict[str, str] = field(default_factory=dict)
    host: str = "127.0.0.1"

    def connect(self, user: str = ADMIN, password: str | None = None, dbname: str = DB) -> object:
        import psycopg

        pw = ADMIN_PASSWORD if user == ADMIN else (password or self.users[user])
        return psycopg.connect(
            host=self.host, port=self.port, user=user, password=pw, dbname=dbname,
            autocommit=True,
        )  # fmt: skip

    def add_user(self, user: str, *, member: bool = True) -> str:
        """A LOGIN role (in enclave_user when `member`); returns its password."""
        password = f"pw-{user}-test"
        with self.connect() as conn:  # type: ignore[attr-defined]
            conn.execute(f"CREATE ROLE \"{user}\" LOGIN PASSWORD '{password}'")
            if member:
                conn.execute(f'GRANT enclave_user TO "{user}"')
        self.users[user] = password
        return password


@dataclass(frozen=True)
class Certificates:
    """A throwaway CA and a server certificate it signed (for localhost and 127.0.0.1)."""

    ca: Path
    cert: Path
    key: Path


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_certificates(
    folder: Path, name: str = "Enclave test CA", hosts: tuple[str, ...] = ("localhost", "127.0.0.1")
) -> Certificates:
    """A new CA (its key is thrown away with `folder`) and a server key and certificate signed
    by it for `hosts` (names and IP addresses), made with the openssl command."""
    folder.mkdir(parents=True, exist_ok=True)
    ca, ca_key = folder / "ca.pem", folder / "ca.key"
    cert, key, csr = folder / "server.pem", folder / "server.key", folder / "server.csr"
    ext = folder / "san.cnf"
    names = ", ".join(f"IP:{h}" if h[:1].isdigit() else f"DNS:{h}" for h in hosts)
    ext.write_text(f"subjectAltName = {names}\n")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
             f"/CN={name}", "-keyout", str(ca_key), "-out", str(ca))  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout",
             str(key), "-out", str(csr))  # fmt: skip
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
             "-CAcreateserial", "-days", "2", "-extfile", str(ext), "-out", str(cert))  # fmt: skip
    key.chmod(0o600)
    return Certificates(ca, cert, key)


@contextlib.contextmanager
def postgres(
    trusted: tuple[str, ...] = (),
    tls: Certificates | None = None,
    *,
    host: str = "127.0.0.1",
    clients: str = "127.0.0.1/32",
    prefix: tuple[str, ...] = (),
) -> Iterator[Postgres]:
    """A fresh server; the LOGIN roles in `trusted` may log in from `clients` without a
    password (for CLI tests, where there is no OS keyring to hold one). With `tls` the server
    runs with ssl=on and that certificate (and still accepts plain logins). It listens on
    `host` and runs under `prefix` (e.g. `ip netns exec NS`: a test host off this machine)."""
    from rag.pg_schema import SCHEMA_SQL

    folder = Path(tempfile.mkdtemp(prefix="enclave-pg-"))
    data, port = folder / "data", free_port()
    (folder / "pw").write_text(ADMIN_PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        shutil.chown(folder / "pw", "postgres")
    run_as = _run_as()
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    assert initdb and pg_ctl
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "check": True}
    subprocess.run(
        [*run_as, initdb, "-D", str(data), "-U", ADMIN, "-A", "scram-sha-256",
         f"--pwfile={folder / 'pw'}", "-E", "UTF8", "--no-sync", "--no-instructions"],
        **quiet,  # type: ignore[arg-type]
    )  # fmt: skip
    hba = data / "pg_hba.conf"
    trust = "".join(f"host all {user} {clients} trust\n" for user in trusted)
    others = "" if clients == "127.0.0.1/32" else f"host all all {clients} scram-sha-256\n"
    hba.write_text(trust + hba.read_text() + others)
    options = f"-p {port} -k {folder} -c listen_addresses={host} -c fsync=off"
    if tls is not None:
        for name, source in (("server.pem", tls.cert), ("server.key", tls.key)):
            shutil.copy(source, data / name)
            (data / name).chmod(0o600)
            if os.geteuid() == 0:
                shutil.chown(data / name, "postgres")
        options += " -c ssl=on -c ssl_cert_file=server.pem -c ssl_key_file=server.key"
    subprocess.run(
        [*prefix, *run_as, pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w",
         "start"],
        **quiet,  # type: ignore[arg-type]
    )  # fmt: skip
    server = Postgres(folder, port, host=host)
    try:
        with server.connect(dbname="postgres") as conn:  # type: ignore[attr-defined]
            conn.execute(f"CREATE DATABASE {DB}")
        with server.connect() as conn:  # type: ignore[attr-defined]
            conn.execute(SCHEMA_SQL)
        yield server
    finally:
        subprocess.run(
            [*prefix, *run_as, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Chroma:
    port: int
    process: subprocess.Popen[bytes]


@contextlib.contextmanager
def chroma() -> Iterator[Chroma]:
    folder = Path(tempfile.mkdtemp(prefix="enclave-chroma-"))
    port = free_port()
    env = dict(os.environ, ANONYMIZED_TELEMETRY="False")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "chroma"), "run", "--path", str(folder), "--port",
         str(port), "--host", "127.0.0.1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                url = f"http://127.0.0.1:{port}/api/v2/heartbeat"
                with urllib.request.urlopen(url, timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("chroma run did not start") from None
                time.sleep(0.2)
        yield Chroma(port, process)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(folder, ignore_errors=True)


class MemoryKeyring:
    """An in-memory keyring backend (tests only), for KeyStore(trust_backend=True)."""

    name = "memory"

    def __init__(self) -> None:
        self.store: dict[tuple[str, str], str] = {}

    def set_password(self, service: str, user: str, value: str) -> None:
        self.store[(service, user)] = value

    def get_password(self, service: str, user: str) -> str | None:
        return self.store.get((service, user))

    def delete_password(self, service: str, user: str) -> None:
        self.store.pop((service, user), None)


def team_for(pg: Postgres, ch: Chroma, user: str, **kwargs: object) -> object:
    """app.library.team.TeamWorkspaces for `user`, its password in an in-memory keyring."""
    from app.frontier.keys import KeyStore
    from app.library.team import TeamWorkspaces, db_key_id
    from app.privacy.team_policy import ChromaServerPolicy, PostgresServer, TeamServers

    servers = TeamServers(
        PostgresServer("127.0.0.1", pg.port, DB, sslmode="disable"),
        ChromaServerPolicy("127.0.0.1", ch.port, ssl=False),
    )
    keys = KeyStore(MemoryKeyring(), trust_backend=True)
    if user in pg.users:
        keys.set_api_key(db_key_id(user), pg.users[user])
    return TeamWorkspaces(servers, keys, user=user, **kwargs)  # type: ignore[arg-type]
