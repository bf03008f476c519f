"""A shared workspace's vectors on the team's Chroma server (chromadb.HttpClient).

The same contract as rag.store.VectorStore (rag.storage.VectorBackend): one collection per
shared workspace (its name is recorded in the team database), holding only ids, vectors and
{document_id, version, page}. No text ever goes to this server: it lives in the team database,
behind its member list. Telemetry is off and the collection's embedding function refuses to run,
as for the local store.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from rag.errors import DocumentError
from rag.store import VectorStore, refusing_embedding_function


class VectorServerUnavailable(DocumentError):
    """The Chroma server cannot be reached (or refused the request)."""


@dataclass(frozen=True)
class ChromaServer:
    host: str
    port: int
    ssl: bool = False
    headers: dict[str, str] = field(default_factory=dict)  # e.g. an Authorization token
    ca_file: str | None = None

    @property
    def where(self) -> str:
        return f"the vector server {self.host}:{self.port}"


def http_client(server: ChromaServer) -> Any:
    """A chromadb HttpClient for `server`, telemetry off; VectorServerUnavailable if down."""
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False, allow_reset=False)
    if server.ca_file:
        settings = Settings(
            anonymized_telemetry=False, allow_reset=False, chroma_server_ssl_verify=server.ca_file
        )
    try:
        client = chromadb.HttpClient(
            host=server.host,
            port=server.port,
            ssl=server.ssl,
            headers=dict(server.headers) or None,
            settings=settings,
        )
        client.heartbeat()
    except Exception as exc:
        raise VectorServerUnavailable(
            f"{server.where[0].upper()}{server.where[1:]} cannot be reached "
            f"({type(exc).__name__}); shared workspaces are unavailable until it is back, "
            "local workspaces keep working."
        ) from exc
    return client


class RemoteVectorStore(VectorStore):
    """Collection `collection` on the Chroma server `server`."""

    def __init__(self, server: ChromaServer, collection: str) -> None:  # no super(): no folder
        self.server = server
        self.collection_name = collection
        self._client = http_client(server)
        self._max_batch = max(1, min(1000, int(self._client.get_max_batch_size())))
        self._collection = self._open_collection()

    def _open_collection(self) -> Any:
        return self._client.get_or_create_collection(
            self.collection_name,
            embedding_function=refusing_embedding_function(),
            metadata={"hnsw:space": "cosine"},
        )

    def reset(self) -> None:
        with contextlib.suppress(Exception):
            self._client.delete_collection(self.collection_name)
        self._collection = self._open_collection()

    def drop(self) -> None:
        """Delete the collection from the server (the workspace moved off it)."""
        with contextlib.suppress(Exception):
            self._client.delete_collection(self.collection_name)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._client.close()  # type: ignore[attr-defined]
