"""A shared workspace's writer lock, held by the team database (rag.storage.WriterLock).

`pg_advisory_xact_lock` in a transaction on the lock's own connection: two desktops writing one
matter take turns, whatever they write; readers never take it. A process that dies releases it
with its connection, so a crash never leaves a matter locked.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from rag.pg_manifest import Connect, SharedStoreUnavailable, is_connection_error

LOCK_CLASS = 0x456E  # advisory lock key space of Enclave's workspace writers ("En")


class AdvisoryWriterLock:
    """The workspace's writer lock, held in the database: `pg_advisory_xact_lock` in a
    transaction on its own connection, from the first `__enter__` of a thread to its last
    `__exit__` (re-entrant). Another process (another desktop) blocks until it is released;
    a process that dies releases it with its connection. `on_wait()` is called (on the
    waiting thread) once before blocking, so the caller can say who it waits for."""

    def __init__(self, connect: Connect, workspace_id: str) -> None:
        self._connect = connect
        self.workspace_id = workspace_id
        self._local = threading.RLock()
        self._depth = 0
        self._conn: Any = None
        self.on_wait: Callable[[], None] | None = None

    def __enter__(self) -> AdvisoryWriterLock:
        self._local.acquire()
        try:
            if self._depth == 0:
                self._take()
            self._depth += 1
        except BaseException:
            self._local.release()
            raise
        return self

    def _take(self) -> None:
        if self._conn is None or self._conn.closed:
            self._conn = self._connect()
        key = (LOCK_CLASS, self.workspace_id)
        try:
            self._conn.execute("BEGIN")
            got = self._conn.execute(
                "SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))", key
            ).fetchone()[0]
            if not got:
                if self.on_wait is not None:
                    self.on_wait()
                self._conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", key)
        except Exception as exc:
            self._drop()
            if is_connection_error(exc):
                raise SharedStoreUnavailable(
                    "The team database could not be reached to take the workspace's writer "
                    "lock; nothing was written."
                ) from exc
            raise

    def __exit__(self, *exc: object) -> None:
        try:
            self._depth -= 1
            if self._depth == 0 and self._conn is not None:
                try:
                    self._conn.execute("COMMIT")  # releases the advisory lock
                except Exception:
                    self._drop()  # the lock went with the connection
        finally:
            self._local.release()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with suppress(Exception):
                conn.close()

    def close(self) -> None:
        with self._local:
            self._drop()
