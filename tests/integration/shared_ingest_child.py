"""A second desktop, for test_shared_workspaces: ingest files into one shared workspace.

argv: pg_port chroma_port user password workspace_id file... ; prints one JSON line per file
({"name", "outcome"}) and exits 0. Real servers, the real embedder.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.bootstrap import secure_process

secure_process()


def main() -> int:
    from rag.embedder import SentenceTransformerEmbedder, default_embedder_path
    from tests.team_servers import Chroma, Postgres, team_for

    pg_port, chroma_port, user, password, workspace_id, *files = sys.argv[1:]
    pg = Postgres(Path("."), int(pg_port), {user: password})
    team = team_for(pg, Chroma(int(chroma_port), None), user)  # type: ignore[arg-type]
    index = team.open_index(workspace_id, SentenceTransformerEmbedder(default_embedder_path()))  # type: ignore[attr-defined]
    print(json.dumps({"ready": True}), flush=True)
    sys.stdin.readline()  # the test starts both processes at once
    try:
        for name in files:
            report = index.ingest_file(Path(name))
            print(json.dumps({"name": report.name, "outcome": report.outcome}), flush=True)
    finally:
        index.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
