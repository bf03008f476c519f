"""Render the main window in realistic states, with the real services, to docs/screenshots/.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/screenshots.py [--out docs/screenshots]

Everything happens in a temporary ENCLAVE_HOME (never the user's folders), with the real
SmolLM2 model, the real embedder, a real clinical note and real CUAD contracts from
../shared/eval. States:
  1. answer-with-citations.png  a clinical question answered from the note: the evidence quoted
                                first, its line clicked, the quote highlighted (1440x900)
  1b. answer-1024x700.png       the same at the smallest supported window size
  2. documents-ingesting.png    the documents panel while a folder is being indexed
  3. models.png                 the models panel: installed models and the hardware found
  4. answer-dark.png            the answer again, in the dark colour scheme
  5. review-request.png        the review of a request to an approved frontier model, redactions
                                highlighted (prepared only: nothing is sent; --only-review)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval"
CONTRACTS = EVAL / "cuad" / "contracts"
DOCS = EVAL / "docs"
QUESTION = "What is the term of the consulting agreement?"
CLINICAL_NOTE = EVAL / "clinical" / "notes" / "bladder-cancer.txt"
CLINICAL_QUESTION = "What dose of metoprolol is the patient on?"
PATIENT = "Patient 0412 – urology"


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    from PySide6.QtCore import QCoreApplication, QEventLoop

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)


def settle(seconds: float = 0.3) -> None:
    from PySide6.QtCore import QCoreApplication

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QCoreApplication.processEvents()
        time.sleep(0.01)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--only-review", action="store_true", help="render state 5 only")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = Path(tempfile.mkdtemp(prefix="enclave-screens-"))
    os.environ["ENCLAVE_HOME"] = str(home)
    sys.path.insert(0, str(ROOT))

    from app.bootstrap import secure_process

    secure_process()
    from PySide6.QtWidgets import QApplication

    from app.desktop.facade import open_desktop
    from ui import theme
    from ui.answer_parts import evidence_citation
    from ui.main_window import MainWindow

    theme.before_application()
    app = QApplication(["enclave"])
    theme.apply(app)
    theme.force_scheme(app, dark=False)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.only_review:
        _review(home, args.out / "review-request.png")
        return 0

    enclave = open_desktop()
    enclave.workspaces.create("ACME distribution contracts")
    enclave.workspaces.create(PATIENT)
    window = MainWindow(enclave, opener=lambda _url: True)
    window.resize(1440, 900)
    window.show()
    window.start()
    wait_until(lambda: window.warm is not None, 180, "the models to load")

    # A clinical note, and a question it answers: the evidence first, its line clicked.
    window.workspaces.select(enclave.workspaces.get(PATIENT).id)
    window.add_documents([CLINICAL_NOTE])
    wait_until(lambda: window.documents.ingest_task is None, 600, "the note to be indexed")
    window.chat.ask(CLINICAL_QUESTION)
    wait_until(lambda: window.chat.task is None, 300, "the answer")
    answer = window.chat._last_answer
    if answer is not None and answer.evidence:
        window.show_citation(evidence_citation(answer.evidence[0]))
        wait_until(lambda: window.citations.passage is not None, 60, "the cited passage")
        print(f"  evidence: {answer.evidence[0].quote!r} ({answer.evidence[0].where()})")
    if answer is not None:
        print(f"  answer: {answer.answer!r}")
    settle()
    _save(window, args.out / "answer-with-citations.png")
    window.resize(1024, 700)
    settle(0.5)
    _save(window, args.out / "answer-1024x700.png")
    window.resize(1440, 900)
    settle(0.3)

    window.workspaces.select(enclave.workspaces.get("ACME distribution contracts").id)

    contracts = [
        CONTRACTS / "ADUROBIOTECH,INC_06_02_2020-EX-10.7-CONSULTING AGREEMENT.txt",
        CONTRACTS / "LIMEENERGYCO_09_09_1999-EX-10-DISTRIBUTOR AGREEMENT.txt",
        *sorted(CONTRACTS.glob("*.txt"))[:1],
    ]
    rejected = DOCS / "pdf" / "malformed" / "invalid.pdf"
    locked = DOCS / "pdf" / "encrypted" / "libreoffice-writer-password.pdf"
    window.add_documents([*contracts, rejected, locked])
    wait_until(lambda: window.documents.ingest_task is None, 600, "the contracts to be indexed")
    wait_until(lambda: window.documents.model.rowCount() >= 5, 60, "the document list")

    # The documents panel in the middle of indexing a folder.
    window.tabs.setCurrentWidget(window.documents)
    task = window.add_documents([DOCS / "pdf" / "text", DOCS / "pdf" / "legal"])
    wait_until(
        lambda: window.documents.progress.maximum() > 1 and window.documents.progress.value() >= 2,
        300,
        "indexing to be under way",
    )
    settle(0.2)
    _save(window, args.out / "documents-ingesting.png")
    if task is not None:
        task.cancel()
    wait_until(lambda: window.documents.ingest_task is None, 300, "indexing to stop")

    window.tabs.setCurrentWidget(window.models)
    wait_until(lambda: window.models.model.rowCount() > 0, 60, "the model list")
    wait_until(lambda: "Detecting" not in window.models.backend.text(), 60, "the hardware")
    settle()
    _save(window, args.out / "models.png")

    window.workspaces.select(enclave.workspaces.get(PATIENT).id)  # its conversation reopens
    theme.force_scheme(app, dark=True)
    settle(0.5)
    window.tabs.setCurrentWidget(window.citations)
    window.chat.rerender()
    if answer is not None and answer.evidence:
        window.show_citation(evidence_citation(answer.evidence[0]))
        wait_until(lambda: window.citations.passage is not None, 60, "the cited passage")
    settle(0.5)
    _save(window, args.out / "answer-dark.png")

    window.shutdown()
    window.close()
    enclave.close()
    theme.force_scheme(app, dark=False)
    _review(home, args.out / "review-request.png")
    print(f"Screenshots written to {args.out}")
    return 0


NOTE = (
    "DISCHARGE SUMMARY\nPatient: Margaret Ellison   MRN: 00482913   DOB: 03/14/1952\n"
    "Admitted 02/02/2026 with community-acquired pneumonia; treated with ceftriaxone 1 g daily. "
    "Her daughter Karen Ellison-Moss can be reached at (617) 555-0143. Attending: Daniel "
    "Whitcombe, MD (NPI 1457389204)."
)


def _review(home: Path, path: Path) -> None:
    """The review dialog for a request an administrator's policy approves (prepared only)."""
    import json

    from app.frontier.gateway import FrontierGateway
    from app.frontier.keys import KeyStore
    from app.paths import Paths
    from app.privacy.ledger import AuditLedger
    from app.privacy.policy import load_policy
    from ui.review_dialog import FrontierReviewDialog

    policy = home / "policy.json"
    policy.write_text(json.dumps({"version": 1, "frontier": {
        "enabled": True, "workspaces": ["patient-0412"], "endpoints": [{
            "id": "gateway", "base_url": "https://ai-gateway.hospital.example/v1",
            "model": "gpt-4o", "label": "Hospital AI gateway"}]}}))  # fmt: skip
    os.environ["ENCLAVE_POLICY"] = str(policy)
    paths = Paths.from_env().ensure()
    service = FrontierGateway(load_policy(paths), KeyStore(), AuditLedger.for_paths(paths))
    request = service.prepare(
        "Which antibiotic was Margaret Ellison given, and for how long?", [NOTE], "patient-0412"
    )
    dialog = FrontierReviewDialog(request)
    dialog.resize(820, 560)
    dialog.show()
    settle(0.5)
    _save(dialog, path)
    dialog.close()


def _save(window: object, path: Path) -> None:
    from PySide6.QtWidgets import QWidget

    assert isinstance(window, QWidget)
    if not window.grab().save(str(path)):
        raise OSError(f"could not write {path}")
    print(f"  {path.name}")


if __name__ == "__main__":
    raise SystemExit(main())
