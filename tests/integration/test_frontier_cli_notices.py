"""`enclave ask --frontier --json`: whenever the frontier is not asked (no policy, a workspace
the policy does not approve, the review not approved, redaction that cannot run), the JSON's
`notices` say why, not only stderr. The real `ask` command (its parser and cmd_ask), the real
index, embedder and local model; no server is needed, since nothing may be sent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.bootstrap import record_egress
from app.cli import build_parser
from app.cli.frontier import NEEDS_SHOW
from tests.frontier_notes import NOTES

pytestmark = pytest.mark.slow

WORKSPACE = "clinic"
QUESTION = "Which vaccines has Maria Lopez had?"  # not in the notes: the local answer is quick


def _policy(path: Path, workspaces: list[str]) -> Path:
    path.write_text(json.dumps({"version": 1, "frontier": {
        "enabled": True, "workspaces": workspaces, "review_required": True,
        "endpoints": [{"id": "gw", "base_url": "http://127.0.0.1:9/v1", "model": "m",
                       "requires_key": False}],
    }}))  # fmt: skip
    return path


def _ask(
    real_embedder: Any, capsys: pytest.CaptureFixture[str], *flags: str
) -> tuple[dict[str, Any], str]:
    """Run `enclave ask QUESTION -w clinic --frontier --json FLAGS` in a fresh Enclave (the
    policy is read once per process, as in the real entry point); (the JSON, stderr)."""
    from app.container import Enclave

    enclave = Enclave(embedder=real_embedder)
    record_egress(enclave.ledger)
    try:
        args = build_parser().parse_args(
            ["ask", QUESTION, "-w", WORKSPACE, "--frontier", "--json", *flags]
        )
        capsys.readouterr()
        assert args.func(args, enclave) == 0
        out = capsys.readouterr()
    finally:
        enclave.close()
    return json.loads(out.out), out.err


@pytest.fixture()
def workspace(real_embedder: Any, tmp_path: Path) -> None:
    from app.container import Enclave
    from app.library.ingest import ingest_paths

    folder = tmp_path / "notes"
    folder.mkdir()
    for name, text in NOTES.items():
        (folder / name).write_text(text, encoding="utf-8")
    enclave = Enclave(embedder=real_embedder)
    try:
        ws = enclave.workspaces.create(WORKSPACE)
        list(ingest_paths(enclave.index(ws), [folder], limits=enclave.parse_limits))
    finally:
        enclave.close()


def test_every_refusal_is_in_the_json_notices(
    workspace: None,
    real_embedder: Any,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No policy at all: no route.
    answer, err = _ask(real_embedder, capsys, "--show-request", "--yes")
    assert answer["route"]["tier"] != "frontier"
    assert answer["notices"][0].startswith("Not sent: ") and answer["notices"][0] in err

    # A policy that does not approve this workspace.
    monkeypatch.setenv("ENCLAVE_POLICY", str(_policy(tmp_path / "other.json", ["oncology"])))
    answer, err = _ask(real_embedder, capsys, "--show-request", "--yes")
    assert answer["notices"][0].startswith("Not sent: ") and answer["notices"][0] in err
    assert "Exact outgoing text" not in err

    # Approved, but the review was not: --yes without the text shown, or no --yes at all.
    monkeypatch.setenv("ENCLAVE_POLICY", str(_policy(tmp_path / "clinic.json", [WORKSPACE])))
    answer, err = _ask(real_embedder, capsys, "--yes")
    assert answer["notices"][0].startswith("Nothing was sent")
    assert answer["notices"][1] == NEEDS_SHOW and NEEDS_SHOW in err
    answer, err = _ask(real_embedder, capsys)
    assert answer["notices"][0].startswith("Nothing was sent")
    assert answer["notices"][1].startswith("Not approved: add --yes")
    assert answer["route"]["tier"] != "frontier"

    # Redaction that cannot run: nothing is built, nothing is sent, and the JSON says so.
    from app.privacy import redaction

    def broken(text: str) -> list[object]:
        raise RuntimeError("a rule bug")

    monkeypatch.setattr(redaction, "detect", broken)
    answer, err = _ask(real_embedder, capsys, "--show-request", "--yes")
    assert answer["notices"][0] == (
        "Not sent: Redaction could not run (RuntimeError); nothing was sent."
    )
    assert "Traceback" not in err
    from app.paths import Paths
    from app.privacy.ledger import AuditLedger

    outcomes = [e.get("outcome") for e in AuditLedger.for_paths(Paths.from_env()).entries()]
    assert "redaction_failed" in outcomes and "answered" not in outcomes
