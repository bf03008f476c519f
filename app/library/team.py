"""Shared workspaces on the organisation's servers: PostgreSQL (manifest, lexical index, member
lists) and a Chroma server (vectors), both named in the administrator's policy (`team`).

Connections go only to the two approved host:port pairs. libpq (PostgreSQL's client, native
code) is outside the Python egress guard, so every connection is made here, to the policy's host
only, and recorded in the audit ledger; the Chroma client (Python) gets an allowance for exactly
its host:port while a shared workspace is open. Passwords and tokens come from the OS keyring
(`team-postgres:<login>`, `team-chroma`), never from a file. A server that cannot be reached
gives one sentence (TeamUnavailable); local workspaces never touch these servers.

The person's login role is the policy's `team.postgres.user`, else ENCLAVE_TEAM_USER, else the
OS login name; the database's row-level security decides which workspaces it sees.
"""

from __future__ import annotations

import builtins
import contextlib
import getpass
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.errors import EnclaveError
from app.privacy import egress

if TYPE_CHECKING:
    from app.frontier.keys import KeyStore
    from app.privacy.team_policy import TeamServers
    from rag.embedder import Embedder
    from rag.index import WorkspaceIndex
    from rag.pg_manifest import PgManifest
    from rag.remote_vectors import ChromaServer, RemoteVectorStore
    from rag.storage import WorkspaceStorage

TEAM_USER_ENV = "ENCLAVE_TEAM_USER"
NO_TEAM = (
    "Your administrator's policy names no team servers, so every workspace stays on this "
    "computer (shared workspaces need a `team` entry in the policy)."
)


class TeamUnavailable(EnclaveError):
    """The team servers are not configured, not reachable, or refused this login."""


@dataclass(frozen=True)
class SharedWorkspaceInfo:
    id: str
    name: str
    created_by: str
    documents: int


def db_key_id(user: str) -> str:
    """The keyring entry holding `user`'s team-database password."""
    return f"team-postgres:{user}"


CHROMA_KEY_ID = "team-chroma"


class TeamWorkspaces:
    """The team servers for this person. Nothing connects until a method needs a server."""

    def __init__(
        self,
        servers: TeamServers | None,
        keys: KeyStore | None,
        *,
        user: str | None = None,
        environ: Mapping[str, str] | None = None,
        record: Callable[[str, int], None] | None = None,
    ) -> None:
        """`record(host, port)` is called for every database connection made off loopback
        (the audit ledger; the egress guard records the Chroma client's own)."""
        self.servers = servers
        self._keys = keys
        env = os.environ if environ is None else environ
        pg_user = servers.postgres.user if servers is not None else None
        self.user = user or pg_user or env.get(TEAM_USER_ENV) or getpass.getuser()
        self._record = record

    @property
    def configured(self) -> bool:
        return self.servers is not None

    def _servers(self) -> TeamServers:
        if self.servers is None:
            raise TeamUnavailable(NO_TEAM)
        return self.servers

    # -- PostgreSQL -------------------------------------------------------------------------
    def connect(self) -> Any:
        """A new autocommit psycopg connection to the approved database, as this person."""
        import psycopg

        pg = self._servers().postgres
        key = self._keys.get_api_key(db_key_id(self.user)) if self._keys is not None else None
        params: dict[str, Any] = {
            "host": pg.host,
            "port": pg.port,
            "dbname": pg.dbname,
            "user": self.user,
            "sslmode": pg.sslmode,
            "connect_timeout": pg.connect_timeout_s,
            "application_name": "enclave",
            "autocommit": True,
        }
        if pg.ca_file:
            params["sslrootcert"] = pg.ca_file
        if key is not None:
            params["password"] = key.reveal()
        if not egress.is_loopback(pg.host) and self._record is not None:
            self._record(pg.host, pg.port)
        try:
            return psycopg.connect(**params)
        except psycopg.OperationalError as exc:
            raise TeamUnavailable(
                _db_sentence(pg.destination, self.user, exc, pg.ca_file)
            ) from None

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        conn = self.connect()
        try:
            return [tuple(r) for r in conn.execute(sql, params).fetchall()]
        except Exception as exc:
            raise _sql_error(exc, self._servers().postgres.destination) from None
        finally:
            conn.close()

    def list(self) -> builtins.list[SharedWorkspaceInfo]:
        """The shared workspaces this person is a member of (the database filters the rest)."""
        rows = self._query(
            "SELECT w.id, w.name, w.created_by, (SELECT count(*) FROM enclave.documents d "
            "WHERE d.workspace_id = w.id) FROM enclave.workspaces w ORDER BY lower(w.name)"
        )
        return [SharedWorkspaceInfo(r[0], r[1], str(r[2]), int(r[3])) for r in rows]

    def create(self, workspace_id: str, name: str) -> str:
        """Create the shared workspace (this person its first member); its collection name."""
        collection = collection_for(workspace_id)
        self._query("SELECT enclave.create_workspace(%s, %s, %s)", (workspace_id, name, collection))
        return collection

    def drop(self, workspace_id: str) -> None:
        """Delete a shared workspace's rows (members only) and its vectors."""
        store = self.vectors(workspace_id)
        try:
            self._query("SELECT enclave.drop_workspace(%s)", (workspace_id,))
            store.drop()
        finally:
            store.close()

    def add_member(self, workspace_id: str, member: str) -> None:
        self._query("SELECT enclave.add_member(%s, %s)", (workspace_id, member))

    def remove_member(self, workspace_id: str, member: str) -> None:
        self._query("SELECT enclave.remove_member(%s, %s)", (workspace_id, member))

    def members(self, workspace_id: str) -> builtins.list[str]:
        rows = self._query(
            "SELECT member FROM enclave.members WHERE workspace_id = %s ORDER BY member",
            (workspace_id,),
        )
        return [str(r[0]) for r in rows]

    def writer_busy(self, workspace_id: str) -> bool:
        """Whether another process holds the shared workspace's writer lock now (a probe)."""
        from rag.pg_lock import LOCK_CLASS

        conn = self.connect()
        try:
            conn.execute("BEGIN")
            got = conn.execute(
                "SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))", (LOCK_CLASS, workspace_id)
            ).fetchone()[0]
            conn.execute("ROLLBACK")  # releases it at once
            return not got
        except Exception as exc:
            raise _sql_error(exc, self._servers().postgres.destination) from None
        finally:
            conn.close()

    # -- Chroma -----------------------------------------------------------------------------
    def chroma_server(self) -> ChromaServer:
        from rag.remote_vectors import ChromaServer

        ch = self._servers().chroma
        headers: dict[str, str] = {}
        if ch.token and self._keys is not None:
            token = self._keys.get_api_key(CHROMA_KEY_ID)
            if token is None:
                raise TeamUnavailable(
                    "The team's vector server needs a token and none is in the OS keyring "
                    f"(entry {CHROMA_KEY_ID!r}); ask your administrator."
                )
            headers["Authorization"] = f"Bearer {token.reveal()}"
        return ChromaServer(ch.host, ch.port, ssl=ch.ssl, headers=headers, ca_file=ch.ca_file)

    def vectors(self, workspace_id: str) -> RemoteVectorStore:
        """The workspace's collection on the Chroma server (open while it is used)."""
        from rag.remote_vectors import RemoteVectorStore, VectorServerUnavailable

        server = self.chroma_server()
        allowance = contextlib.ExitStack()
        allowance.enter_context(egress.allow(server.host, server.port))
        try:
            store = RemoteVectorStore(server, collection_for(workspace_id))
        except VectorServerUnavailable as exc:
            allowance.close()
            raise TeamUnavailable(str(exc)) from None
        except BaseException:
            allowance.close()
            raise
        closer = store.close

        def close() -> None:
            try:
                closer()
            finally:
                allowance.close()

        store.close = close  # type: ignore[method-assign]
        return store

    # -- a workspace's storage ----------------------------------------------------------------
    def storage(self, workspace_id: str) -> WorkspaceStorage:
        """The shared workspace's manifest, vectors and writer lock (rag.storage)."""
        from rag.pg_lock import AdvisoryWriterLock
        from rag.storage import WorkspaceStorage

        manifest = self.storage_manifest(workspace_id)
        try:
            store = self.vectors(workspace_id)
        except BaseException:
            manifest.close()
            raise
        writer = AdvisoryWriterLock(self.connect, workspace_id)
        return WorkspaceStorage(manifest, store, writer, release=writer.close)

    def storage_manifest(self, workspace_id: str) -> PgManifest:
        """The shared workspace's manifest alone (documents and word search, no vectors)."""
        from rag.pg_manifest import PgManifest, SharedWorkspaceNotFound

        where = f"the team database {self._servers().postgres.destination}"
        try:
            return PgManifest(self.connect, workspace_id, where=where)
        except SharedWorkspaceNotFound as exc:
            raise TeamUnavailable(str(exc)) from None

    def open_index(self, workspace_id: str, embedder: Embedder) -> WorkspaceIndex:
        """The shared workspace's index: the same WorkspaceIndex as a local one."""
        from rag.index import WorkspaceIndex

        return WorkspaceIndex.on_storage(
            self.storage(workspace_id), embedder, label=f"shared:{workspace_id}"
        )


def collection_for(workspace_id: str) -> str:
    """The Chroma collection of a shared workspace (3-512 characters: [a-zA-Z0-9._-])."""
    return f"enclave-{workspace_id}"


def _db_sentence(destination: str, user: str, exc: Exception, ca_file: str | None = None) -> str:
    detail = str(exc).lower()
    if "certificate verify failed" in detail or "certificate is not yet valid" in detail:
        trust = f"the CA in {ca_file}" if ca_file else "this computer's trusted CAs"
        return (
            f"The team database {destination} presented a certificate that {trust} does not "
            "vouch for, so Enclave did not connect; ask your administrator for the right "
            "team.postgres.ca_file."
        )
    if "does not match host name" in detail:
        return (
            f"The team database {destination} presented a certificate for another host name, "
            "so Enclave did not connect; the policy must name the host its certificate names."
        )
    if "root certificate file" in detail:
        return (
            f"The team database {destination} needs its certificate checked and no CA is given; "
            "set team.postgres.ca_file in the policy to the organisation's CA (PEM)."
        )
    if "server does not support ssl" in detail:
        return (
            f"The team database {destination} does not offer TLS and the policy requires it; "
            "ask your administrator to turn ssl on in PostgreSQL."
        )
    if "password" in detail or "authentication" in detail or "role" in detail:
        return (
            f"The team database {destination} refused the login {user!r}: check the password "
            f"kept in the OS keyring ({db_key_id(user)!r}) or ask your administrator."
        )
    return (
        f"The team database {destination} cannot be reached; shared workspaces are unavailable "
        "until it is back, and local workspaces keep working."
    )


def _sql_error(exc: Exception, destination: str) -> Exception:
    import psycopg

    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return TeamUnavailable(
            "The team database refused: you are not a member of that shared workspace."
        )
    if isinstance(exc, psycopg.errors.UniqueViolation):
        return TeamUnavailable(
            "A shared workspace with that name already exists on the team servers."
        )
    if isinstance(exc, psycopg.errors.UndefinedTable | psycopg.errors.UndefinedFunction):
        return TeamUnavailable(
            f"The team database {destination} has no Enclave schema yet; your administrator "
            "sets it up with `enclave workspaces team-sql`."
        )
    if isinstance(exc, psycopg.OperationalError):
        return TeamUnavailable(f"The connection to the team database {destination} was lost.")
    return exc
