"""The installation self-test: load the model, index a sample, ask, check the citation, offline.

`run_self_test()` proves that an installation (a source checkout, a wheel install from the offline
kit, or the frozen bundle) works on this machine with no network: it builds an `Enclave` in a
temporary ENCLAVE_HOME (never the user's folders), checks the built-in model's sha256 and loads it,
writes a synthetic two-page contract PDF (shipped as code, so every form of installation has it),
indexes it through the real ingest path (the PDF is parsed in the worker process), asks a question
the sample answers verbatim, and checks that the answer carries a verified citation whose quote is
exactly the document's text; and it reads a drawn page image by OCR (the engine and its
models as installed). It also checks that the egress guard is installed and every telemetry
switch is set, and that nothing tried to leave the machine during the run.

Runs on the caller's thread; `progress(event, seconds)` is called on that thread before and after
each stage, `seconds` counted from the start of the self-test. No Qt.
"""

from __future__ import annotations

import os
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.chat.service import ChatAnswer
    from app.container import Enclave
    from app.library.workspaces import Workspace

Progress = Callable[[str, float], None]

SAMPLE_NAME = "northwind-services-agreement.pdf"
SAMPLE_QUESTION = "What is the monthly service fee?"
SAMPLE_FACT = "4,250"  # the cited quote must contain this (it is on page 2 of the sample)
SAMPLE_FACT_PAGE = 2
SAMPLE_PAGES: tuple[tuple[str, ...], ...] = (
    (
        "SERVICES AGREEMENT",
        "",
        "This Services Agreement is made on 3 March 2025 between Northwind Clinical Records Ltd",
        "(the Provider) and Harbour Street Legal LLP (the Client).",
        "",
        "1. Services. The Provider shall scan, index and store the Client's closed matter files.",
        "2. Term. This Agreement starts on 1 April 2025 and lasts for twenty-four months.",
        "3. Renewal. It renews for one further year unless a party gives 90 days' notice.",
        "4. Records. The Provider shall keep an access log of every file it handles.",
        "",
        "This is a synthetic sample written for the Enclave self-test. It is not a real agreement,",
        "and the parties named in it do not exist.",
    ),
    (
        "5. Fees. The monthly service fee is EUR 4,250, payable within 30 days of each invoice.",
        "6. Late payment. Unpaid invoices carry interest at 2% above the base rate.",
        "7. Confidentiality. The Provider shall keep every Client document confidential.",
        "8. Governing law. This Agreement is governed by the laws of Ireland.",
        "9. Termination. Either party may end this Agreement on 30 days' written notice.",
        "",
        "Signed for the Provider: A. Byrne, Director.",
        "Signed for the Client: M. Okafor, Partner.",
    ),
)


def sample_text() -> str:
    """The sample's text, pages separated by a form feed (as a reader sees it)."""
    return "\f".join("\n".join(lines) for lines in SAMPLE_PAGES)


def _pdf_string(line: str) -> str:
    escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return f"({escaped})"


def sample_pdf_bytes() -> bytes:
    """A small, valid PDF of the sample (Helvetica, one text line per PDF line). Deterministic:
    the same bytes every time, so packaging/sample/ can be checked against it."""
    objects: list[bytes] = []
    n_pages = len(SAMPLE_PAGES)
    page_ids = [4 + 2 * i for i in range(n_pages)]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    for pid, lines in zip(page_ids, SAMPLE_PAGES, strict=True):
        body = ["BT", "/F1 11 Tf", "14 TL", "72 760 Td"]
        for line in lines:
            for part in textwrap.wrap(line, 95) or [""]:
                body.append(f"{_pdf_string(part)} Tj T*")
        body.append("ET")
        stream = "\n".join(body).encode("cp1252")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {pid + 1} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def write_sample(folder: Path) -> Path:
    """Write the sample PDF into `folder` and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SAMPLE_NAME
    path.write_bytes(sample_pdf_bytes())
    return path


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class SelfTestReport:
    checks: list[Check] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds from the self-test's start
    model_id: str = ""
    device: str = ""
    backend: str = ""
    embedder_backend: str = ""  # "onnxruntime" or "torch"
    llama_system_info: str = ""
    frozen: bool = False
    answer: str = ""  # the answer about the synthetic sample (never user content)
    citations: list[dict[str, Any]] = field(default_factory=list)
    peak_rss_mb: float = 0.0

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def add(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checks.append(Check(name, bool(ok), detail))
        return bool(ok)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data

    def lines(self) -> list[str]:
        """The report for a person: one line per check, then the figures."""
        out = [f"{'ok' if c.ok else 'FAILED':>6}  {c.name}" + (f": {c.detail}" if c.detail else "")
               for c in self.checks]  # fmt: skip
        t = self.timings
        out.append(
            f"Model {self.model_id or '?'} on {self.device or '?'} (llama.cpp back-end "
            f"{self.backend or '?'}); model ready {t.get('model_ready', float('nan')):.1f} s, "
            f"first token {t.get('first_token', float('nan')):.1f} s, total "
            f"{t.get('total', float('nan')):.1f} s, peak memory {self.peak_rss_mb:.0f} MB."
        )
        out.append("Self-test passed." if self.ok else "Self-test FAILED.")
        return out


def _peak_rss_mb() -> float:
    try:
        import resource
    except ImportError:  # Windows: the peak working set
        import psutil

        info = psutil.Process().memory_info()
        return float(getattr(info, "peak_wset", info.rss)) / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, else KiB


def run_self_test(home: Path | None = None, *, progress: Progress | None = None) -> SelfTestReport:
    """Run every check (see the module docstring) and return the report; never raises for a
    failed check. `home`: the ENCLAVE_HOME to use (default: a temporary folder, removed after)."""
    started = time.perf_counter()
    report = SelfTestReport(frozen=bool(getattr(sys, "frozen", False)))

    def mark(event: str) -> None:
        seconds = round(time.perf_counter() - started, 3)
        report.timings[event] = seconds
        if progress is not None:
            progress(event, seconds)

    check_offline_switches(report)
    from app.privacy.egress import GUARD

    refused_before = GUARD.refused_count
    if home is None:
        with tempfile.TemporaryDirectory(prefix="enclave-selftest-") as tmp:
            _run_in(Path(tmp), report, mark)
    else:
        _run_in(Path(home), report, mark)
    refused = GUARD.refused_count - refused_before
    report.add(
        "nothing tried to leave this computer",
        refused == 0,
        "" if refused == 0 else f"the egress guard refused {refused} connection attempt(s)",
    )
    report.peak_rss_mb = round(_peak_rss_mb(), 1)
    mark("total")
    return report


def check_offline_switches(report: SelfTestReport) -> None:
    from app.privacy.egress import GUARD
    from app.privacy.telemetry import TELEMETRY_SWITCHES

    report.add(
        "egress guard active (loopback only)",
        GUARD.installed,
        "" if GUARD.installed else "the egress guard is not installed in this process",
    )
    unset = sorted(k for k, v in TELEMETRY_SWITCHES.items() if os.environ.get(k) != v)
    report.add(
        "every telemetry switch off",
        not unset,
        "" if not unset else f"not set: {', '.join(unset)}",
    )


def _run_in(home: Path, report: SelfTestReport, mark: Callable[[str], None]) -> None:
    from app.container import Enclave
    from app.paths import Paths

    paths = Paths.from_env({"ENCLAVE_HOME": str(home)})
    try:
        with Enclave(paths) as enclave:
            _stages(enclave, home, report, mark)
    except Exception as exc:  # a stage's failure is a failed check with its reason, not a crash
        report.add("self-test completed", False, f"{type(exc).__name__}: {exc}")


def _stages(
    enclave: Enclave, home: Path, report: SelfTestReport, mark: Callable[[str], None]
) -> None:
    mark("start")
    model_id = enclave.settings.default_model
    record = enclave.catalog.get(model_id)  # registers the built-in model, sha256-checked
    report.add("built-in model present and sha256 verified", True, f"{record.id} ({record.file})")
    engine = enclave.engines.get(model_id)
    report.model_id, report.device = model_id, engine.device
    mark("model_ready")
    report.add("model loaded by llama.cpp", True, f"{record.quantization}, on {engine.device}")
    _hardware(report)

    _search_model(enclave, report)
    mark("embedder_ready")
    ws = enclave.workspaces.get_or_create("self-test")
    sample = write_sample(home / "sample")
    if not _ingest(enclave, ws, sample, report):
        return
    mark("ingested")
    _ocr_one_page(enclave, home, report)
    mark("ocr_done")
    answer = _ask(enclave, ws, report, mark)
    if answer is not None:
        _check_citations(enclave, ws, answer, report)


def _search_model(enclave: Enclave, report: SelfTestReport) -> None:
    """The search model loads, through ONNX Runtime whenever the install step made its file (a
    bundle that lost the file would silently run PyTorch, several times slower to start)."""
    from rag.onnx_embedder import installed_onnx_path

    embedder = enclave.embedder
    backend = str(getattr(embedder, "backend", "?"))
    report.embedder_backend = backend
    forced = os.environ.get("ENCLAVE_EMBEDDER_BACKEND", "auto").strip().lower() not in ("", "auto")
    if installed_onnx_path().is_file() and not forced:
        report.add("search model runs on ONNX Runtime", backend == "onnxruntime", backend)
    else:
        report.add("search model loaded", True, backend)


def _hardware(report: SelfTestReport) -> None:
    try:
        from models.hardware import detect_hardware

        hw = detect_hardware()
        report.backend, report.llama_system_info = hw.display_backend, hw.system_info
    except Exception as exc:  # informative only
        report.backend = f"unknown ({type(exc).__name__})"


def _ingest(enclave: Enclave, ws: Workspace, sample: Path, report: SelfTestReport) -> bool:
    from app.library.ingest import FileOutcome, ingest_paths

    outcomes = [
        ev.report
        for ev in ingest_paths(enclave.index(ws), [sample], limits=enclave.parse_limits)
        if isinstance(ev, FileOutcome)
    ]
    ok = len(outcomes) == 1 and outcomes[0].outcome == "indexed" and outcomes[0].pages == 2
    detail = (
        f"{outcomes[0].outcome}, {outcomes[0].pages} page(s), {outcomes[0].chunk_count} chunk(s)"
        + (f": {outcomes[0].reason}" if outcomes[0].reason else "")
        if outcomes
        else "the sample was not ingested"
    )
    return report.add("sample PDF parsed and indexed", ok, detail)


OCR_SENTENCE = "Scanned page: the notice period is ninety days."


def _ocr_one_page(enclave: Enclave, home: Path, report: SelfTestReport) -> bool:
    """Draw a page image with a known sentence and read it through the parse worker's OCR (the
    engine and its models as installed: in the bundle, those under _internal/rapidocr/)."""
    from PIL import Image, ImageDraw, ImageFont

    from rag.extract import extract

    page = Image.new("L", (1700, 600), 255)
    ImageDraw.Draw(page).text((100, 200), OCR_SENTENCE, font=ImageFont.load_default(size=44))
    path = home / "sample" / "scanned-page.png"
    page.save(path)
    result = extract(path, limits=enclave.parse_limits)
    parsed = result.parsed
    text = " ".join(parsed.text.split()) if parsed is not None else ""
    ok = parsed is not None and parsed.pages[0].ocr and "ninety days" in text
    detail = f"read: {text[:80]!r}" if parsed is not None else f"{result.outcome}: {result.reason}"
    return report.add("a scanned page read by OCR", ok, detail)


def _ask(
    enclave: Enclave, ws: Workspace, report: SelfTestReport, mark: Callable[[str], None]
) -> ChatAnswer | None:
    from app.chat.service import ChatAnswer, Token

    answer: ChatAnswer | None = None
    first = True
    for event in enclave.chat.ask(ws, SAMPLE_QUESTION):
        if isinstance(event, Token) and first:
            first = False
            mark("first_token")
        elif isinstance(event, ChatAnswer):
            answer = event
    mark("answered")
    if answer is None:
        report.add("question answered", False, "no answer came back")
        return None
    report.answer = answer.answer
    report.add(
        "question answered",
        bool(answer.answer.strip()) and not answer.not_found,
        f"{0 if answer.stats is None else answer.stats.completion_tokens} token(s)"
        + (", but the model found no answer in the sample" if answer.not_found else ""),
    )
    return answer


def _check_citations(
    enclave: Enclave, ws: Workspace, answer: ChatAnswer, report: SelfTestReport
) -> None:
    index = enclave.workspaces.index(ws, enclave.embedder)  # maintenance methods: in-process
    good = []
    for c in answer.citations:
        report.citations.append(
            {"n": c.n, "document": c.document, "page": c.page, "quote": c.quote,
             "verified": c.verified}
        )  # fmt: skip
        if not (c.verified and c.document == SAMPLE_NAME and c.quote):
            continue
        chunk = index.chunk(c.chunk_id)
        if index.document_text_span(chunk.document_id, c.start, c.end) == c.quote:
            good.append(c)
    report.add(
        "answer cites the sample with a verbatim quote",
        bool(good),
        f"{len(good)} verified of {len(answer.citations)} citation(s)",
    )
    fact = [c for c in good if SAMPLE_FACT in c.quote and c.page == SAMPLE_FACT_PAGE]
    report.add(
        f"the quote is the sentence that answers (page {SAMPLE_FACT_PAGE})",
        bool(fact),
        f'"{fact[0].quote}"' if fact else "no verified quote holds the fee",
    )
