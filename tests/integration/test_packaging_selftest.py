"""The installation self-test (app.checks.selftest) and the frozen entry point, run from source.

Real components throughout: the SmolLM2 GGUF through llama.cpp, the real embedder, chromadb on
disk, the sample PDF parsed by PDFium in the parse worker process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.checks import selftest
from app.checks.selftest import SAMPLE_FACT, SelfTestReport, run_self_test, sample_pdf_bytes

REPO = Path(__file__).resolve().parents[2]
ENTRY = REPO / "packaging" / "enclave_entry.py"
HOOK = REPO / "packaging" / "hooks" / "rthook_enclave_offline.py"


def test_shipped_sample_is_what_the_self_test_writes() -> None:
    shipped = REPO / "packaging" / "sample" / selftest.SAMPLE_NAME
    assert shipped.read_bytes() == sample_pdf_bytes()
    assert sample_pdf_bytes() == sample_pdf_bytes()  # deterministic


def test_offline_switch_check_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("ORT_DISABLE_TELEMETRY", "0")
    report = SelfTestReport()
    selftest.check_offline_switches(report)
    (guard, switches) = report.checks
    assert guard.ok  # tests/conftest.py installed the guard, as every entry point does
    assert not switches.ok and not report.ok
    assert switches.detail == "not set: HF_HUB_OFFLINE, ORT_DISABLE_TELEMETRY"


@pytest.mark.slow
def test_self_test_fails_and_says_why_when_the_sample_cannot_be_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    damaged = sample_pdf_bytes()[: len(sample_pdf_bytes()) // 2]  # an interrupted copy
    monkeypatch.setattr(selftest, "sample_pdf_bytes", lambda: damaged)
    report = run_self_test(tmp_path / "home")
    assert not report.ok
    failed = [c for c in report.checks if not c.ok]
    assert [c.name for c in failed] == ["sample PDF parsed and indexed"]
    assert "rejected" in failed[0].detail or "damaged" in failed[0].detail.lower()
    assert "first_token" not in report.timings  # it stopped before asking
    assert (tmp_path / "home" / "data").is_dir()  # the given home is used and kept


def test_search_model_check_fails_when_the_installed_onnx_file_is_not_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bundle that lost its ONNX file would run PyTorch: with the file installed (make does),
    a search model on any other back-end fails the self-test, naming it."""
    from types import SimpleNamespace

    from rag.onnx_embedder import installed_onnx_path

    assert installed_onnx_path().is_file(), "make exports the search model's ONNX file"
    monkeypatch.delenv("ENCLAVE_EMBEDDER_BACKEND", raising=False)
    for backend, ok in (("torch", False), ("onnxruntime", True)):
        report = SelfTestReport()
        fake = SimpleNamespace(embedder=SimpleNamespace(backend=backend))
        selftest._search_model(fake, report)  # type: ignore[arg-type]
        (check,) = report.checks
        assert (check.name, check.ok, check.detail) == (
            "search model runs on ONNX Runtime",
            ok,
            backend,
        )
        assert report.embedder_backend == backend


def _run(
    args: list[str], home: Path | None = None, **kw: object
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ENCLAVE_HOME"}
    if home is not None:
        env["ENCLAVE_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        **kw,
    )  # type: ignore[call-overload]


@pytest.mark.slow
def test_entry_point_self_test_passes_with_the_real_stack(tmp_path: Path) -> None:
    """The frozen app's `--self-test --json`, run from source: progress lines as they happen,
    then the report; the configured ENCLAVE_HOME is never touched (a temporary one is used)."""
    configured = tmp_path / "configured-home"
    proc = _run([str(ENTRY), "--self-test", "--json"], home=configured)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    events = [x["event"] for x in lines]
    assert events == ["start", "model_ready", "embedder_ready", "ingested", "ocr_done",
                      "first_token", "answered", "total", "report"]  # fmt: skip
    report = lines[-1]
    assert report["ok"] is True and report["frozen"] is False, report["checks"]
    assert all(c["ok"] for c in report["checks"])
    names = {c["name"] for c in report["checks"]}
    assert {"egress guard active (loopback only)", "every telemetry switch off",
            "nothing tried to leave this computer",
            "a scanned page read by OCR",
            "search model runs on ONNX Runtime"} <= names  # fmt: skip
    assert report["embedder_backend"] == "onnxruntime"
    assert report["model_id"] == "smollm2-135m-instruct" and report["device"] == "CPU"
    cited = [c for c in report["citations"] if c["verified"] and SAMPLE_FACT in c["quote"]]
    assert cited and cited[0]["page"] == 2 and cited[0]["document"] == selftest.SAMPLE_NAME
    assert report["timings"]["first_token"] > report["timings"]["model_ready"]
    assert not configured.exists()


def test_entry_point_runs_the_parse_worker(tmp_path: Path) -> None:
    pdf = tmp_path / "sample.pdf"
    pdf.write_bytes(sample_pdf_bytes())
    from rag.limits import ParseLimits

    request = {"kind": "pdf", "path": str(pdf), "password": None,
               "limits": ParseLimits().to_dict()}  # fmt: skip
    proc = _run([str(ENTRY), "--enclave-parse-worker"], input=json.dumps(request))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["status"] == "ok", result
    assert SAMPLE_FACT in json.dumps(result)


def test_runtime_hook_sets_every_telemetry_switch() -> None:
    from app.privacy.telemetry import TELEMETRY_SWITCHES

    code = (
        f"import runpy, os, json; runpy.run_path({str(HOOK)!r}); "
        "print(json.dumps(dict(os.environ)))"
    )
    proc = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": str(REPO)}, cwd=REPO,
                          capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    env = json.loads(proc.stdout)
    assert {k: env.get(k) for k in TELEMETRY_SWITCHES} == TELEMETRY_SWITCHES
