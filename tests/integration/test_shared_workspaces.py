"""Shared workspaces on real team servers started here on loopback (issue 14, point 1):
PostgreSQL from the OS packages (initdb + pg_ctl on a free port) and `chroma run`.

- lexical search on the shared index ranks exactly as the local one (all 20 CUAD contracts);
- hybrid search of a shared workspace equals the same workspace held locally (real embedder);
- two processes ingesting the same files into one shared workspace end with each file once;
- a login that is not a member cannot list, open or read a matter (row-level security);
- `enclave workspaces share` then `unshare` round-trip every document, passage and vector;
- an unreachable server gives one sentence, and local workspaces keep working.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import team_servers
from tests.integration.cli_helpers import enclave

pytestmark = pytest.mark.slow

CUAD = Path(__file__).resolve().parents[3] / "shared" / "eval" / "cuad" / "contracts"
QUERIES = [
    "governing law",
    "termination for convenience",
    "This Agreement shall be governed by the laws of the State of New York",
    "exclusivity",
    "non-compete",
    "most favored nation",
    "anti-assignment consent",
    "change of control",
    "revenue/profit sharing",
    "minimum commitment",
    "liquidated damages",
    "cap on liability",
    "uncapped liability",
    "insurance",
    "audit rights",
    "warranty duration",
    "post-termination services",
    "renewal term",
    "notice period to terminate renewal",
    "effective date",
    "expiration date",
    "parties",
    "irrevocable or perpetual license",
    "joint IP ownership",
    "source code escrow",
    "covenant not to sue",
    "third party beneficiary",
    "the",
    "sixty (60) days",
    "Section 12.2(b)",
]


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[team_servers.Postgres, team_servers.Chroma]]:
    why = team_servers.missing()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the shared-workspace tests: {why}")
        pytest.skip(why)
    with team_servers.postgres(trusted=("carol",)) as pg, team_servers.chroma() as ch:
        for user in ("alice", "bob", "carol"):
            pg.add_user(user)
        pg.add_user("mallory", member=False)  # a login that is not even an Enclave user
        yield pg, ch


def _contracts(n: int | None = None) -> list[Path]:
    if not CUAD.is_dir():
        pytest.skip(f"the CUAD contracts are not at {CUAD}")
    found = sorted(CUAD.glob("*.txt"))
    return found if n is None else found[:n]


def _team(servers: Any, user: str) -> Any:
    pg, ch = servers
    return team_servers.team_for(pg, ch, user)


def _new_shared(servers: Any, workspace_id: str, embedder: Any, user: str = "alice") -> Any:
    team = _team(servers, user)
    team.create(workspace_id, workspace_id.upper())
    return team.open_index(workspace_id, embedder)


def test_lexical_ranking_is_the_local_indexs_on_all_cuad_contracts(
    servers: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.embedder import HashEmbedder  # lexical ranking does not look at vectors
    from rag.index import WorkspaceIndex

    contracts = _contracts()
    embedder = HashEmbedder(384)
    shared = _new_shared(servers, "lexical-cuad", embedder)
    with WorkspaceIndex(tmp_path / "local", embedder) as local:
        for path in contracts:
            assert shared.ingest_file(path).outcome == local.ingest_file(path).outcome
        assert shared.manifest.live_chunk_count() == local.manifest.live_chunk_count() > 500
        compared = 0
        for query in QUERIES:
            want = local.manifest.lexical(query, 20)
            got = shared.manifest.lexical(query, 20)
            assert [cid for cid, _ in got] == [cid for cid, _ in want], query
            for (_, a), (_, b) in zip(got, want, strict=True):
                assert a == pytest.approx(b, rel=1e-9), query
            compared += len(want)
            scoped = [local.documents()[3].id, local.documents()[7].id]
            got, want = (
                shared.manifest.lexical(query, 10, scoped),
                local.manifest.lexical(query, 10, scoped),
            )
            assert [cid for cid, _ in got] == [cid for cid, _ in want], query
            for n in (1, 7, 150):  # the pruned search (rag.pg_lexical) at other depths: the same
                got, want = shared.manifest.lexical(query, n), local.manifest.lexical(query, n)
                assert got == want, (query, n)  # the very scores FTS5 computes, bit for bit
        import rag.pg_lexical

        monkeypatch.setattr(rag.pg_lexical, "SCOPE_CHUNKS", 0)  # a big scope: pruned, scoped
        monkeypatch.setattr(rag.pg_lexical, "FIRST_CANDIDATES", 1)  # and every pruning branch
        many = [d.id for d in local.documents()[:12]]
        for query in QUERIES:
            for n in (1, 20):
                got, want = shared.manifest.lexical(query, n), local.manifest.lexical(query, n)
                assert got == want, (query, n)
                assert shared.manifest.lexical(query, n, many) == local.manifest.lexical(
                    query, n, many
                ), (query, n)
        assert compared > 400  # the queries found plenty to compare
    shared.close()


def test_search_of_a_shared_workspace_equals_the_same_workspace_held_locally(
    servers: Any, tmp_path: Path, real_embedder: Any
) -> None:
    from rag.index import WorkspaceIndex

    shared = _new_shared(servers, "hybrid-cuad", real_embedder)
    with WorkspaceIndex(tmp_path / "local", real_embedder) as local:
        for path in _contracts(4):
            assert shared.ingest_file(path).outcome == "indexed"
            local.ingest_file(path)
        for query in QUERIES[:12]:
            for mode in ("hybrid", "dense", "lexical"):
                want = local.search(query, k=5, mode=mode)
                got = shared.search(query, k=5, mode=mode)
                assert [h.chunk for h in got] == [h.chunk for h in want], (query, mode)
                assert [h.score for h in got] == pytest.approx([h.score for h in want])
        doc = local.documents()[0].id
        got, want = (
            shared.search("term", k=3, documents=[doc]),
            local.search("term", k=3, documents=[doc]),
        )
        assert [h.chunk for h in got] == [h.chunk for h in want] and len(want) == 3
        assert [h.dense_similarity for h in got] == pytest.approx(
            [h.dense_similarity for h in want], abs=1e-5
        )
    shared.close()


def test_two_processes_ingesting_into_one_shared_workspace_index_every_file_once(
    servers: Any,
) -> None:
    pg, ch = servers
    contracts = _contracts(6)
    _team(servers, "alice").create("two-desks", "Two desks")
    _team(servers, "alice").add_member("two-desks", "bob")
    child = Path(__file__).with_name("shared_ingest_child.py")
    procs = []
    for user, files in (("alice", contracts), ("bob", list(reversed(contracts)))):
        args = [str(pg.port), str(ch.port), user, pg.users[user], "two-desks", *map(str, files)]
        procs.append(
            subprocess.Popen(
                [sys.executable, str(child), *args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    for p in procs:  # both have the index open before either starts writing
        assert p.stdout is not None and json.loads(p.stdout.readline()) == {"ready": True}
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    outcomes: dict[str, list[str]] = {}
    for p in procs:
        out, _ = p.communicate(timeout=600)
        assert p.returncode == 0
        for line in out.splitlines():
            got = json.loads(line)
            outcomes.setdefault(got["name"], []).append(got["outcome"])
    assert set(outcomes) == {c.name for c in contracts}
    for name, seen in outcomes.items():
        assert sorted(seen) == ["indexed", "unchanged"], name  # one indexed it, one saw it done

    manifest = _team(servers, "alice").storage_manifest("two-desks")
    rows = manifest.documents()
    assert sorted(r.name for r in rows) == sorted(c.name for c in contracts)
    assert all(r.version > 0 and r.status == "indexed" for r in rows)
    assert manifest.pending() == []
    assert manifest.live_chunk_count() == sum(r.chunk_count for r in rows)
    store = _team(servers, "alice").vectors("two-desks")
    assert store.all_ids() == manifest.live_chunk_ids()  # no vector twice, none left over
    store.close()
    manifest.close()


def test_a_login_that_is_not_a_member_cannot_list_open_or_read_a_matter(servers: Any) -> None:
    from app.library.team import TeamUnavailable
    from rag.embedder import HashEmbedder

    pg, _ = servers
    embedder = HashEmbedder(384)
    index = _new_shared(servers, "secret-matter", embedder)
    index.ingest_file(_contracts(1)[0])
    alice, bob = _team(servers, "alice"), _team(servers, "bob")
    assert "secret-matter" in [w.id for w in alice.list()]
    assert "secret-matter" not in [w.id for w in bob.list()]
    with pytest.raises(TeamUnavailable, match="member"):
        bob.open_index("secret-matter", embedder)
    with pg.connect("bob") as conn:  # straight SQL: the database itself hides the rows
        # (bob may belong to other matters of this module's tests: only this one is counted)
        for table, column in (("workspaces", "id"), ("documents", "workspace_id"),
                              ("chunks", "workspace_id"), ("postings", "workspace_id"),
                              ("document_texts", "workspace_id")):  # fmt: skip
            query = f"SELECT count(*) FROM enclave.{table} WHERE {column} = 'secret-matter'"
            assert conn.execute(query).fetchone()[0] == 0, table
        with pytest.raises(Exception, match="not a member"):
            conn.execute("SELECT enclave.add_member('secret-matter', 'bob')")
        before = conn.execute(
            "SELECT count(*) FROM enclave.documents WHERE workspace_id = 'secret-matter'"
        ).fetchone()[0]
        conn.execute("UPDATE enclave.documents SET name = 'x' WHERE workspace_id = 'secret-matter'")
        conn.execute("DELETE FROM enclave.chunks WHERE workspace_id = 'secret-matter'")
        assert before == 0
    with pg.connect("mallory") as conn, pytest.raises(Exception, match="permission denied"):
        conn.execute("SELECT count(*) FROM enclave.chunks")
    assert index.manifest.live_chunk_count() > 0  # bob's UPDATE/DELETE touched nothing
    assert index.documents()[0].name != "x"
    alice.add_member("secret-matter", "bob")
    shown = bob.open_index("secret-matter", embedder)
    assert shown.search("agreement", k=3) == index.search("agreement", k=3)
    shown.close()
    alice.remove_member("secret-matter", "bob")
    assert "secret-matter" not in [w.id for w in bob.list()]
    index.close()


def _policy(tmp_path: Path, pg_port: int, chroma_port: int) -> Path:
    policy = {
        "version": 1,
        "team": {
            "postgres": {"host": "127.0.0.1", "port": pg_port, "sslmode": "disable"},
            "chroma": {"host": "127.0.0.1", "port": chroma_port, "ssl": False},
        },
    }
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(policy))
    return path


def _snapshot(manifest: Any, store: Any) -> dict[str, Any]:
    rows = manifest.documents()
    ids = sorted(manifest.live_chunk_ids())
    return {
        "documents": rows,
        "chunks": {r.id: manifest.document_chunks(r.id) for r in rows},
        "texts": {r.id: manifest.document_text(r.id) for r in rows},
        "pages": {r.id: manifest.pages(r.id) for r in rows},
        "vectors": store.embeddings(ids),
    }


def _same(got: dict[str, Any], want: dict[str, Any]) -> None:
    """Everything equal; vectors to float32 precision (the server sends them as numbers)."""
    assert {k: v for k, v in got.items() if k != "vectors"} == {
        k: v for k, v in want.items() if k != "vectors"
    }
    assert got["vectors"].keys() == want["vectors"].keys()
    for cid, vector in want["vectors"].items():
        assert got["vectors"][cid] == pytest.approx(vector, abs=1e-6), cid


def test_share_then_unshare_round_trips_every_document_passage_and_vector(
    servers: Any,
    tmp_path: Path,
    enclave_home: Path,
    real_embedder: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.container import Enclave
    from rag.manifest import Manifest
    from rag.store import VectorStore

    pg, ch = servers
    monkeypatch.setenv("ENCLAVE_POLICY", str(_policy(tmp_path, pg.port, ch.port)))
    monkeypatch.setenv("ENCLAVE_TEAM_USER", "carol")  # a trusted login: no keyring needed
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with Enclave(embedder=real_embedder) as app:
        ws = app.workspaces.create("Round Trip")
        index = app.index(ws)
        for path in _contracts(3):
            assert index.ingest_file(path).outcome == "indexed"
        assert index.ingest_file(empty).outcome == "rejected"  # kept, with its reason
        want_hits = index.search("governing law", k=5)
    local_manifest = Manifest(ws.index_folder / "manifest.sqlite3")
    local_store = VectorStore(ws.index_folder / "chroma")
    before = _snapshot(local_manifest, local_store)
    local_store.close()
    local_manifest.close()
    assert len(before["documents"]) == 4 and len(before["vectors"]) > 50

    shared = enclave(enclave_home, "workspaces", "share", "Round Trip")
    assert "4 documents" in shared.stdout and "verified" in shared.stdout
    assert not ws.index_folder.exists()  # the local copy is gone only after verification
    carol = _team(servers, "carol")
    storage = carol.storage(ws.id)
    _same(_snapshot(storage.manifest, storage.store), before)
    storage.store.close()
    storage.manifest.close()
    storage.release()
    listed = enclave(enclave_home, "workspaces", "list", "--json")
    assert json.loads(listed.stdout)["shared"] is True
    with Enclave(embedder=real_embedder) as app:
        got = app.index(app.workspaces.get("Round Trip")).search("governing law", k=5)
        assert [h.chunk for h in got] == [h.chunk for h in want_hits]

    back = enclave(enclave_home, "workspaces", "unshare", "Round Trip")
    assert "4 documents" in back.stdout
    local_manifest = Manifest(ws.index_folder / "manifest.sqlite3")
    local_store = VectorStore(ws.index_folder / "chroma")
    _same(_snapshot(local_manifest, local_store), before)
    local_store.close()
    local_manifest.close()
    assert ws.id not in [w.id for w in carol.list()]  # moved off the team servers
    with pg.connect() as conn:  # the administrator sees every row: none are left behind
        for table in ("documents", "chunks", "postings", "document_texts", "pages"):
            sql = f"SELECT count(*) FROM enclave.{table} WHERE workspace_id = %s"
            assert conn.execute(sql, (ws.id,)).fetchone()[0] == 0, table
    with Enclave(embedder=real_embedder) as app:
        got = app.index(app.workspaces.get("Round Trip")).search("governing law", k=5)
        assert [h.chunk for h in got] == [h.chunk for h in want_hits]


def test_an_unreachable_server_gives_one_sentence_and_local_workspaces_keep_working(
    servers: Any, tmp_path: Path, enclave_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.library.team import TeamUnavailable
    from rag.embedder import HashEmbedder

    pg, ch = servers
    down = team_servers.free_port()
    monkeypatch.setenv("ENCLAVE_POLICY", str(_policy(tmp_path, down, ch.port)))
    monkeypatch.setenv("ENCLAVE_TEAM_USER", "carol")
    notes = tmp_path / "notes.txt"
    notes.write_text("The indemnity clause survives termination of this agreement.\n")
    enclave(enclave_home, "ingest", str(notes), "--workspace", "local-one", "--create")
    result = enclave(enclave_home, "workspaces", "share", "local-one", check=False)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "cannot be reached" in lines[0] and "local workspaces keep working" in lines[0]
    found = enclave(enclave_home, "search", "indemnity", "--workspace", "local-one", "--json")
    assert "indemnity" in found.stdout  # the local workspace still works, and is still local
    assert (
        json.loads(enclave(enclave_home, "workspaces", "list", "--json").stdout)["shared"] is False
    )

    _team(servers, "alice").create("vectors-down", "Vectors down")
    no_vectors = team_servers.team_for(pg, team_servers.Chroma(down, None), "alice")  # type: ignore[arg-type]
    with pytest.raises(TeamUnavailable, match="cannot be reached") as caught:
        no_vectors.open_index("vectors-down", HashEmbedder(384))  # type: ignore[attr-defined]
    assert "\n" not in str(caught.value)


def test_a_second_writer_waits_for_the_first_and_says_so(servers: Any) -> None:
    from app.library.workspaces import Workspace, WorkspaceRegistry

    alice, bob = _team(servers, "alice"), _team(servers, "bob")
    alice.create("busy-matter", "Busy matter")
    alice.add_member("busy-matter", "bob")
    storage = alice.storage("busy-matter")
    registry = WorkspaceRegistry(Path("/nonexistent"), team=lambda: bob)
    ws = Workspace("busy-matter", "Busy matter", "", Path("/nonexistent"), shared=True)
    said: list[str] = []
    with storage.writer:  # alice is writing
        assert bob.writer_busy("busy-matter")
        assert registry.busy(ws) is None  # readers never wait for a writer
        with pytest.raises(TimeoutError):
            _wait(registry, ws, said, seconds=1.5)
    assert said == ["Workspace 'Busy matter' is being written from another computer"]
    assert not bob.writer_busy("busy-matter")
    registry.wait_until_free(ws, said.append)  # free again: returns at once, says nothing
    assert len(said) == 1
    storage.store.close()
    storage.manifest.close()
    storage.release()


def _wait(registry: Any, ws: Any, said: list[str], seconds: float) -> None:
    import threading

    done = threading.Event()
    worker = threading.Thread(
        target=lambda: (registry.wait_until_free(ws, said.append, poll_s=0.1), done.set()),
        daemon=True,
    )
    worker.start()
    if not done.wait(seconds):
        raise TimeoutError
