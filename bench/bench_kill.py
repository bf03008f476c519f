"""Kill -9 stress test of the workspace index: SIGKILL a real ingest at random moments, restart,
and check that nothing committed is lost and no document is half visible (issue 12).

Each trial: the parent writes a set of real text files (new documents, rewrites of documents
committed earlier, retries of documents a kill interrupted; every version of every document has
its own unique word in every sentence), starts a child process that opens the workspace as the
app does (`WorkspaceIndex(root, embedder)`, whose constructor runs `recover()`), checks the
whole workspace as the previous kill left it, then ingests the files with `ingest_file`. The
parent kills the child with SIGKILL at a seeded random moment of that ingest, then reads the
manifest (read-only SQLite) to learn what was committed before the kill. The next trial's child
is the restart: its check covers every document ever committed, so damage would accumulate in
the one workspace used by every trial. After the last trial a final process checks everything
again with dense search on every chunk, then re-ingests every file (the restart finishes the
job) and checks once more.

A document counts as committed when its row in the manifest (read right after the kill) holds
the sha256 of a version the parent wrote, or when the child reported its ingest_file returned.
After the restart, every committed document must hold that version or a later one (else: lost),
and be whole (else: half visible): its chunks are the row's version only, tile its stored text,
all have a vector in chroma equal to the embedding of their text, a lexical search for its
unique word finds exactly all of them, and (for the documents of the previous trial and a
sample of the others each trial; for every document at the end) a dense search for each
chunk's text finds that chunk first. The word of any other version (replaced, or never
committed) must find nothing. Chroma must hold exactly the manifest's live chunks, with no
pending versions left. A restart fails when opening the workspace or recover() raises, or the
check cannot run.

The embedder is rag.embedder.HashEmbedder (deterministic, no model) so that 200 trials fit in
minutes on 2 cores; chromadb on disk, the SQLite manifest and the version switch are the real
ones.

    .venv/bin/python bench/bench_kill.py --trials 200 --seed 0

Writes bench/results/kill.json and bench/results/kill.md. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import platform
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
COMMAND = ".venv/bin/python bench/bench_kill.py"
TAG = "@@kill "
SENTENCES = 30  # per document: about 3.4 KB, 7 chunks of rag.chunking's 800 characters
WORDS_PER_SENTENCE = 11
MUST_BE_ZERO = ("lost", "half_visible", "uncommitted_visible", "failed_restarts", "other_problems")
DETAIL_CAP = 20  # problem descriptions kept per trial

# -- the child: open (recover), check, ingest until killed -------------------------------------


def emit(event: str, **fields: Any) -> None:
    """One event line on stdout, written with one write() so a kill never leaves half a line."""
    line = TAG + json.dumps({"ev": event, "t": time.monotonic(), **fields}) + "\n"
    os.write(1, line.encode("utf-8"))


def child_main(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(REPO))
    from app.bootstrap import secure_process

    secure_process()
    from rag.embedder import HashEmbedder
    from rag.index import WorkspaceIndex

    class Emit(logging.Handler):  # the index's warnings (a store set aside, ...) as events
        def emit(self, record: logging.LogRecord) -> None:
            emit("log", level=record.levelname, name=record.name, msg=record.getMessage())

    logging.getLogger("rag").addHandler(Emit(logging.WARNING))
    emit("boot")
    started = time.perf_counter()
    try:
        index = WorkspaceIndex(Path(args.root), HashEmbedder())
    except Exception as exc:
        emit("open_failed", error=f"{type(exc).__name__}: {exc}", tb=traceback.format_exc())
        return 3
    recovery = index.last_recovery
    emit(
        "opened",
        open_s=time.perf_counter() - started,
        recovery={
            "pending_versions_cleared": recovery.pending_versions_cleared,
            "orphan_vectors_removed": recovery.orphan_vectors_removed,
            "vectors_restored": recovery.vectors_restored,
        },
        set_aside=sorted(p.name for p in Path(args.root).glob("chroma.*")),
    )
    expect = json.loads(Path(args.expect).read_text(encoding="utf-8"))
    try:
        verdict = verify(index, expect, full=args.mode == "final")
    except Exception as exc:
        emit("verify_failed", error=f"{type(exc).__name__}: {exc}", tb=traceback.format_exc())
        return 4
    emit("verified", **verdict)
    if args.mode == "final":
        return finish_job(index, expect)
    files = json.loads(Path(args.files_json).read_text(encoding="utf-8"))
    emit("start")
    for i, name in enumerate(files):

        def progress(stage: str, done: int, total: int, i: int = i) -> None:
            emit("stage", i=i, s=stage, d=done, n=total)

        report = index.ingest_file(Path(name), progress=progress)
        emit("committed", i=i, doc=report.document_id, outcome=report.outcome)
    emit("finished")
    time.sleep(float(args.linger))  # an idle, open workspace: the kill may come now too
    index.close()
    return 0


def finish_job(index: Any, expect: dict[str, Any]) -> int:
    """The restart finishes the job: every file's latest version is ingested, then all is
    checked again (with every document now expected at its latest version)."""
    outcomes: Counter[str] = Counter()
    for doc in expect["docs"].values():
        outcomes[index.ingest_file(Path(doc["path"])).outcome] += 1
        doc["min_live"] = len(doc["versions"]) - 1
    emit("finish_ingest", outcomes=dict(outcomes))
    emit("verified_after_finish", **verify(index, expect, full=True))
    index.close()
    return 0


def verify(index: Any, expect: dict[str, Any], *, full: bool) -> dict[str, Any]:
    """Check the opened workspace against what the parent knows was committed."""
    started = time.perf_counter()
    manifest = index.manifest
    lost: dict[str, str] = {}
    half: dict[str, str] = {}
    unseen: dict[str, str] = {}  # uncommitted or replaced versions that are visible
    other: list[str] = []
    pending = manifest.pending()
    if pending:
        other.append(f"{len(pending)} pending version(s) left after recovery")
    try:
        manifest.check_lexical_index()
    except Exception as exc:
        other.append(f"FTS integrity check failed: {type(exc).__name__}: {exc}")
    have = index.store.all_ids()
    live = manifest.live_chunk_ids()
    stray, missing = sorted(have - live), sorted(live - have)
    if stray:
        other.append(f"{len(stray)} vector(s) in chroma that are not live, e.g. {stray[0]}")
    if missing:
        other.append(f"{len(missing)} live chunk(s) without a vector, e.g. {missing[0]}")
    rows = {row.id: row for row in manifest.documents()}
    docs = expect["docs"]
    for doc_id in sorted(set(rows) - set(docs)):
        other.append(f"a document nobody ingested is in the manifest: {doc_id}")
    dense_docs = set(expect.get("dense", []))
    checked_dense = live_docs = 0
    for doc_id, doc in docs.items():
        versions, min_live = doc["versions"], doc["min_live"]
        shas = [sha for sha, _ in versions]
        row = rows.get(doc_id)
        live_idx: int | None = None
        if row is not None and row.is_live:
            if row.sha256 in shas:
                live_idx = shas.index(row.sha256)
            else:
                other.append(f"{doc_id} holds content nobody wrote (sha {row.sha256[:12]})")
        if min_live >= 0 and (live_idx is None or live_idx < min_live):
            state = "missing" if live_idx is None else f"back at version {live_idx}"
            lost[doc_id] = f"committed at version {min_live}, now {state}"
            continue
        for k, (_, word) in enumerate(versions):
            if k != live_idx and index.search(word, 5, "lexical"):
                where = unseen if live_idx is None else half
                where[doc_id] = f"the word of its version {k} (not live) is searchable"
        if live_idx is None:
            continue
        live_docs += 1
        dense = full or doc_id in dense_docs
        checked_dense += dense
        problem = whole(index, row, versions[live_idx][1], have, dense=dense)
        if problem == "not searchable" and min_live >= 0:
            lost[doc_id] = "its chunks are not found by its word"
        elif problem:
            half[doc_id] = problem
    return {
        "documents_checked": len(docs),
        "live_documents": live_docs,
        "dense_checked": checked_dense,
        "lost": len(lost),
        "half_visible": len(half),
        "uncommitted_visible": len(unseen),
        "stray_vectors": len(stray),
        "missing_vectors": len(missing),
        "pending_left": len(pending),
        "problems": [f"lost {d}: {w}" for d, w in sorted(lost.items())][:DETAIL_CAP]
        + [f"half visible {d}: {w}" for d, w in sorted(half.items())][:DETAIL_CAP]
        + [f"visible {d}: {w}" for d, w in sorted(unseen.items())][:DETAIL_CAP]
        + other[:DETAIL_CAP],
        "other_problems": len(other),
        "verify_s": time.perf_counter() - started,
    }


def whole(index: Any, row: Any, word: str, have: set[str], *, dense: bool) -> str:
    """'' when the live document `row` is whole and searchable, else what is wrong."""
    manifest = index.manifest
    chunks = manifest.document_chunks(row.id)
    ids = {c.id for c in chunks}
    prefix = f"{row.id}-v{row.version}-"
    hits = index.search(word, row.chunk_count + 10, "lexical")
    found = {h.chunk.id for h in hits}
    if not found & ids:
        return "not searchable"
    if len(chunks) != row.chunk_count:
        return f"{len(chunks)} chunks live, the row says {row.chunk_count}"
    if any(not c.id.startswith(prefix) for c in chunks):
        return f"chunks of another version than the row's v{row.version}"
    text = manifest.document_text(row.id)
    if text is None or word not in text:
        return "its stored text is missing or of another version"
    if any(text[c.start : c.end] != c.text for c in chunks):
        return "a chunk does not match its stored text"
    if any(h.chunk.document_id != row.id for h in hits):
        return "its unique word finds another document's chunk"
    if found != ids:
        return f"its word finds {len(found & ids)} of its {len(ids)} chunks"
    if not ids <= have:
        return f"{len(ids - have)} of its chunks have no vector"
    if dense:
        vectors = index.store.embeddings(sorted(ids))
        for chunk in chunks:
            want = index.embedder.embed([chunk.text])[0]
            got = vectors.get(chunk.id)
            if got is None or max(abs(a - b) for a, b in zip(got, want, strict=True)) > 1e-4:
                return f"the vector of {chunk.id} is not its text's"
            top = index.search(chunk.text, 1, "dense")
            if not top or top[0].chunk.id != chunk.id:
                return f"a dense search for {chunk.id}'s text does not find it first"
    return ""


# -- the parent: files, kills, bookkeeping -----------------------------------------------------


class Child:
    """A child process whose event lines are collected by a reader thread."""

    def __init__(self, argv: list[str]) -> None:
        env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            argv, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        self.events: list[dict[str, Any]] = []
        self.stderr: list[bytes] = []
        self._cond = threading.Condition()
        self._threads = [
            threading.Thread(target=self._read_events, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _read_events(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace")
            if line.startswith(TAG):
                with self._cond:
                    self.events.append(json.loads(line[len(TAG) :]))
                    self._cond.notify_all()
        with self._cond:
            self.events.append({"ev": "eof"})
            self._cond.notify_all()

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            self.stderr = [*self.stderr[-40:], raw]

    def wait_for(self, names: set[str], timeout: float) -> dict[str, Any] | None:
        """The first event named in `names` (or "eof"), or None after `timeout` seconds."""
        return self.wait_until(lambda e: e["ev"] in names, timeout)

    def wait_until(self, wanted: Any, timeout: float) -> dict[str, Any] | None:
        """The first event for which `wanted(event)` (or "eof"), or None after `timeout` s."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for event in self.events:
                    if event["ev"] == "eof" or wanted(event):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def named(self, name: str) -> list[dict[str, Any]]:
        with self._cond:
            return [e for e in self.events if e["ev"] == name]

    def kill(self) -> float:
        """SIGKILL now; the moment (time.monotonic) it was sent."""
        moment = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.end()
        return moment

    def end(self, timeout: float = 60) -> None:
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=timeout)
        for thread in self._threads:
            thread.join(timeout=10)

    def stderr_tail(self) -> str:
        return b"".join(self.stderr).decode("utf-8", "replace")[-1500:]


class Corpus:
    """The documents the parent wrote: path, every version's sha256 and unique word."""

    def __init__(self, folder: Path, rng: random.Random) -> None:
        self.folder, self.rng = folder, rng
        letters = "abcdefghijklmnoprstuvw"
        self.vocab = sorted(
            {"".join(rng.choice(letters) for _ in range(rng.randint(4, 9))) for _ in range(3000)}
        )
        self.docs: dict[str, dict[str, Any]] = {}
        self.words = 0

    def text(self, word: str) -> str:
        sentences = []
        for _ in range(SENTENCES):
            words = self.rng.sample(self.vocab, WORDS_PER_SENTENCE)
            words.insert(self.rng.randint(1, len(words)), word)  # never first: not capitalised
            sentences.append(" ".join([words[0].capitalize(), *words[1:]]) + ".")
        paragraphs = [" ".join(sentences[i : i + 5]) for i in range(0, SENTENCES, 5)]
        return "\n\n".join(paragraphs) + "\n"

    def write(self, path: Path) -> str:
        """A new version of the document at `path` (created if new); its id."""
        from rag.index_types import document_id_for

        self.words += 1
        word = f"uq{self.words:06d}x"  # one token for FTS5 (porter leaves it) and HashEmbedder
        data = self.text(word).encode("utf-8")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        doc_id = document_id_for(path)
        doc = self.docs.setdefault(
            doc_id, {"path": str(path), "versions": [], "min_live": -1, "trial": -1}
        )
        doc["versions"].append([hashlib.sha256(data).hexdigest(), word])
        return doc_id


def read_committed(db: Path) -> dict[str, str] | None:
    """{document id: sha256} of the live documents, read as another process would (read-only),
    or None when the manifest cannot be read."""
    if not db.exists():
        return {}
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            rows = conn.execute(
                "SELECT id, sha256 FROM documents WHERE version > 0 AND chunk_count > 0"
            ).fetchall()
        finally:
            conn.close()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return {}
        return None
    return {r[0]: r[1] for r in rows}


def plan_trial(
    corpus: Corpus, trial: int, n_files: int, rewrites: int, retries: int
) -> tuple[list[str], dict[str, str]]:
    """This trial's files (paths, in ingest order) and {doc id: kind}; writes them."""
    rng = corpus.rng
    committed = sorted(d for d, doc in corpus.docs.items() if doc["min_live"] >= 0)
    waiting = sorted(
        (d for d, doc in corpus.docs.items() if doc["min_live"] < 0), key=_doc_trial(corpus)
    )
    kinds: dict[str, str] = {}
    for doc_id in rng.sample(committed, min(rewrites, len(committed))):
        corpus.write(Path(corpus.docs[doc_id]["path"]))
        kinds[doc_id] = "rewrite"
    for doc_id in waiting[:retries]:
        kinds[doc_id] = "retry"
    serial = 0
    while len(kinds) < n_files:
        path = corpus.folder / f"t{trial:04d}" / f"doc{serial:02d}.txt"
        serial += 1
        kinds[corpus.write(path)] = "new"
    order = list(kinds)
    rng.shuffle(order)
    for doc_id in order:
        corpus.docs[doc_id]["trial"] = trial
    return [corpus.docs[d]["path"] for d in order], {d: kinds[d] for d in order}


def _doc_trial(corpus: Corpus) -> Any:
    return lambda d: (corpus.docs[d]["trial"], d)


def write_expect(path: Path, corpus: Corpus, dense: list[str]) -> None:
    docs = {
        d: {"path": doc["path"], "versions": doc["versions"], "min_live": doc["min_live"]}
        for d, doc in corpus.docs.items()
    }
    path.write_text(json.dumps({"docs": docs, "dense": dense}), encoding="utf-8")


def _is_stage(event: dict[str, Any], i: int, stage: str) -> bool:
    if event["ev"] != "stage" or event["i"] != i:
        return False
    if stage == "written":
        return bool(event["s"] == "embedding" and event["d"] == event["n"])
    return bool(event["s"] == stage)


def stage_at_kill(events: list[dict[str, Any]], after_commit: bool, replacing: bool) -> str:
    """Where the child was when it died: its last event before the kill."""
    last = next((e for e in reversed(events) if e["ev"] in {"start", "stage", "committed",
                                                           "finished"}), None)  # fmt: skip
    if last is None or last["ev"] == "start":
        return "before the first file"
    if last["ev"] == "finished":
        return "after the last file (idle)"
    if last["ev"] == "committed":
        return "between files"
    stage = last["s"]
    if stage in ("hashing", "extracting", "chunking"):
        return "hashing, extracting or chunking"
    if stage == "embedding":
        return (
            "vectors written, before the commit"
            if last["d"] == last["n"]
            else "embedding and writing vectors to chroma"
        )
    if stage == "committing":
        if not after_commit:
            return "in the SQLite commit"
        if replacing:
            return "committed, the old version's vectors being dropped"
        return "committed, before ingest_file returned"
    return "committed, before ingest_file returned"


def run_child(mode: str, root: Path, expect: Path, files: Path | None, linger: float) -> Child:
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", mode, "--root", str(root)]
    argv += ["--expect", str(expect), "--linger", str(linger)]
    if files is not None:
        argv += ["--files-list", str(files)]
    return Child(argv)


def opened_or_failure(child: Child, timeout: float) -> tuple[dict[str, Any], str]:
    """The child's 'verified' event (and its 'opened' details), or ({}, why it failed)."""
    event = child.wait_for({"verified", "open_failed", "verify_failed"}, timeout)
    if event is None:
        child.kill()
        return {}, f"no check within {timeout:.0f} s (killed)"
    if event["ev"] != "verified":
        child.end()
        tail = event.get("tb") or child.stderr_tail()
        why = event.get("error", f"the child exited ({child.proc.returncode}) before the check")
        return {}, f"{why}\n{tail[-1500:]}"
    opened = (child.named("opened") or [{}])[0]
    warnings = [f"{e['name']}: {e['msg']}" for e in child.named("log")]
    return {**event, "open_s": opened.get("open_s"), "recovery": opened.get("recovery"),
            "set_aside": opened.get("set_aside", []), "warnings": warnings}, ""  # fmt: skip


def parent_main(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(REPO))
    run_started = time.monotonic()
    deadline = run_started + args.max_minutes * 60
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="enclave-kill-"))
    root, expect_path, files_path = work / "ws", work / "expect.json", work / "files.json"
    corpus = Corpus(work / "files", rng)
    print(f"workspace {root} (HashEmbedder, real chromadb + SQLite)", flush=True)

    per_doc_s = calibrate(work, corpus, args)
    print(f"calibration: {per_doc_s * 1000:.0f} ms per document", flush=True)

    trials: list[dict[str, Any]] = []
    failed_restarts: list[dict[str, Any]] = []
    previous: list[str] = []
    stopped_early = ""
    consecutive_failures = 0
    for trial in range(args.trials):
        if time.monotonic() > deadline:
            stopped_early = f"the run's time limit ({args.max_minutes} min) was reached"
            break
        paths, kinds = plan_trial(corpus, trial, args.files, args.rewrites, args.retries)
        others = sorted(d for d, doc in corpus.docs.items() if doc["min_live"] >= 0)
        dense = sorted(set(previous) | set(rng.sample(others, min(args.dense_sample, len(others)))))
        write_expect(expect_path, corpus, dense)
        files_path.write_text(json.dumps(paths), encoding="utf-8")
        child = run_child("trial", root, expect_path, files_path, args.trial_timeout)
        check, why = opened_or_failure(child, args.trial_timeout)
        if trials:
            trials[-1]["restart"] = check or {"failed": why}
        if why:
            failed_restarts.append({"after_trial": trial - 1, "why": why})
            print(f"trial {trial}: RESTART FAILED: {why.splitlines()[0]}", flush=True)
            consecutive_failures += 1
            if consecutive_failures >= 3:
                stopped_early = "three restarts in a row failed"
                break
            continue
        consecutive_failures = 0
        start = child.wait_for({"start"}, args.trial_timeout)
        if start is None or start["ev"] != "start":
            child.kill()
            failed_restarts.append({"after_trial": trial - 1, "why": "no ingest started"})
            continue
        window = per_doc_s * len(paths) * args.window
        aim = ""
        if rng.random() < args.targeted:  # at a chosen file's commit: the version switch
            kinds_in_order = list(kinds.values())
            rewrites = [i for i, k in enumerate(kinds_in_order) if k == "rewrite"]
            i = (
                rng.choice(rewrites)
                if rewrites and rng.random() < 0.5
                else rng.randrange(len(paths))
            )
            stage = rng.choice(["written", "committing"])
            jitter = rng.uniform(0.0, args.jitter_ms / 1000)
            aim = f"{stage} of file {i} ({kinds_in_order[i]}) + {jitter * 1000:.1f} ms"
            event = child.wait_until(lambda e, i=i, s=stage: _is_stage(e, i, s), args.trial_timeout)
            moment = event["t"] + jitter if event and event["ev"] == "stage" else 0.0
        else:
            moment = start["t"] + rng.uniform(0.0, window)
        time.sleep(max(0.0, moment - time.monotonic()))
        killed_at = child.kill()
        record = account(trial, child, kinds, corpus, root, start["t"], killed_at, window)
        record["aimed_at"] = aim
        if record["committed"] >= 2:
            per_doc_s = 0.8 * per_doc_s + 0.2 * record["ms_per_document"] / 1000
        trials.append(record)
        previous = list(kinds)
        print(
            f"trial {trial + 1}/{args.trials}: killed after {record['kill_after_s']:.3f} s "
            f"({record['stage']}{'; aimed at ' + aim if aim else ''}), "
            f"{record['committed']}/{len(paths)} committed; the restart before it found: "
            f"{_check_line(check)}",
            flush=True,
        )

    final = final_check(work, root, expect_path, corpus, trials, failed_restarts, args)
    elapsed = time.monotonic() - run_started
    data = summarize(args, trials, failed_restarts, final, elapsed, stopped_early, per_doc_s)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "kill.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    md = markdown(data)
    (RESULTS / "kill.md").write_text(md, encoding="utf-8")
    print(md)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"kept {work}")
    bad = data["totals"]
    return 1 if bad["must_be_zero"] or stopped_early else 0


def _check_line(check: dict[str, Any]) -> str:
    rec = check.get("recovery") or {}
    return (
        f"{check['live_documents']} live, lost {check['lost']}, half {check['half_visible']}, "
        f"visible-uncommitted {check['uncommitted_visible']}, other {check['other_problems']}; "
        f"recovery cleared {rec.get('pending_versions_cleared')} pending, removed "
        f"{rec.get('orphan_vectors_removed')} orphans, restored {rec.get('vectors_restored')} "
        f"({check['verify_s']:.1f} s)"
    )


def calibrate(work: Path, corpus: Corpus, args: argparse.Namespace) -> float:
    """Seconds per document of an uninterrupted ingest, in a scratch workspace."""
    scratch = Corpus(work / "calibration", random.Random(args.seed + 1))
    paths = [str(work / "calibration" / f"doc{i:02d}.txt") for i in range(args.files)]
    for path in paths:
        scratch.write(Path(path))
    expect, files = work / "calibration.json", work / "calibration-files.json"
    expect.write_text(json.dumps({"docs": {}, "dense": []}), encoding="utf-8")
    files.write_text(json.dumps(paths), encoding="utf-8")
    child = run_child("trial", work / "calibration-ws", expect, files, 60)
    start = child.wait_for({"start"}, args.trial_timeout)
    done = child.wait_for({"finished"}, args.trial_timeout)
    child.kill()
    if not start or not done or done["ev"] != "finished":
        raise SystemExit(f"the calibration ingest did not finish: {child.stderr_tail()}")
    return max(0.005, (done["t"] - start["t"]) / len(paths))


def account(
    trial: int,
    child: Child,
    kinds: dict[str, str],
    corpus: Corpus,
    root: Path,
    started: float,
    killed_at: float,
    window: float,
) -> dict[str, Any]:
    """What this trial committed before the kill, learned from the manifest and the child."""
    events = [e for e in child.events if e.get("t", 0) <= killed_at or e["ev"] == "eof"]
    db = read_committed(root / "manifest.sqlite3")
    order = list(kinds)
    reported = {e["doc"] for e in child.named("committed") if e["outcome"].startswith("indexed")}
    committed, not_in_db = [], []
    for doc_id in order:
        doc = corpus.docs[doc_id]
        latest = len(doc["versions"]) - 1
        in_db = db is not None and db.get(doc_id) == doc["versions"][latest][0]
        if in_db or doc_id in reported:
            committed.append(doc_id)
            doc["min_live"] = latest
        if doc_id in reported and not in_db:
            not_in_db.append(doc_id)
    stages = [e for e in events if e["ev"] == "stage"]
    in_flight = stages[-1]["i"] if stages else None
    after_commit = in_flight is not None and order[in_flight] in committed
    replacing = in_flight is not None and kinds[order[in_flight]] == "rewrite"
    commit_times = [e["t"] for e in child.named("committed")]
    gaps = [b - a for a, b in zip([started, *commit_times], commit_times, strict=False)]
    return {
        "trial": trial,
        "files": len(order),
        "kinds": dict(Counter(kinds.values())),
        "kill_after_s": killed_at - started,
        "kill_window_s": window,
        "stage": stage_at_kill(events, after_commit, replacing),
        "committed": len(committed),
        "committed_kinds": dict(Counter(kinds[d] for d in committed)),
        "reported_by_child": len(reported),
        "committed_not_yet_reported": len(set(committed) - reported),
        "reported_but_not_in_manifest": not_in_db,
        "manifest_unreadable_after_kill": db is None,
        "ms_per_document": 1000 * statistics.median(gaps) if gaps else None,
        "exit": child.proc.returncode,
        "warnings_during_ingest": [
            f"{e['name']}: {e['msg']}" for e in child.named("log") if e["t"] > started
        ],
    }


def final_check(
    work: Path,
    root: Path,
    expect_path: Path,
    corpus: Corpus,
    trials: list[dict[str, Any]],
    failed: list[dict[str, Any]],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """A last restart after the last kill: check all (dense everywhere), finish the job."""
    write_expect(expect_path, corpus, [])
    child = run_child("final", root, expect_path, None, 0)
    check, why = opened_or_failure(child, max(args.trial_timeout, 600))
    if trials:
        trials[-1]["restart"] = check or {"failed": why}
    if why:
        failed.append({"after_trial": len(trials) - 1, "why": why})
        print(f"final restart FAILED: {why}", flush=True)
        return {"failed": why}
    after = child.wait_for({"verified_after_finish"}, 900)
    ingest = child.named("finish_ingest")
    child.end()
    print(f"final check: {_check_line(check)}", flush=True)
    return {
        "check": check,
        "finish_ingest": ingest[0]["outcomes"] if ingest else None,
        "after_finish": after if after and after["ev"] == "verified_after_finish" else None,
        "stderr": "" if after else child.stderr_tail(),
    }


def summarize(
    args: argparse.Namespace,
    trials: list[dict[str, Any]],
    failed: list[dict[str, Any]],
    final: dict[str, Any],
    elapsed: float,
    stopped_early: str,
    per_doc_s: float,
) -> dict[str, Any]:
    import chromadb

    checks = [t["restart"] for t in trials if "restart" in t and "failed" not in t["restart"]]
    after = final.get("after_finish") or {}

    def total(key: str) -> int:
        return sum(int(c.get(key, 0)) for c in checks)

    committed = [t["committed"] for t in trials]
    lost = total("lost") + sum(len(t["reported_but_not_in_manifest"]) for t in trials)
    recovery = Counter[str]()
    for c in checks:
        recovery.update(c.get("recovery") or {})
    random_kills = [t for t in trials if not t["aimed_at"]]
    aimed_kills = [t for t in trials if t["aimed_at"]]
    fracs = sorted(t["kill_after_s"] / t["kill_window_s"] for t in random_kills)
    totals = {
        "trials": len(trials),
        "documents_committed_before_kills": sum(committed),
        "lost": lost + int(after.get("lost", 0)),
        "half_visible": total("half_visible") + int(after.get("half_visible", 0)),
        "uncommitted_visible": total("uncommitted_visible")
        + int(after.get("uncommitted_visible", 0)),
        "failed_restarts": len(failed),
        "other_problems": total("other_problems") + int(after.get("other_problems", 0)),
        "stray_vectors_after_recovery": total("stray_vectors"),
        "missing_vectors_after_recovery": total("missing_vectors"),
        "pending_left_after_recovery": total("pending_left"),
        "manifest_unreadable_after_kill": sum(t["manifest_unreadable_after_kill"] for t in trials),
    }
    totals["must_be_zero"] = sum(totals[k] for k in MUST_BE_ZERO)
    return {
        "command": f"{COMMAND} --trials {args.trials} --seed {args.seed}",
        "seed": args.seed,
        "trials_requested": args.trials,
        "files_per_trial": args.files,
        "rewrites_per_trial": args.rewrites,
        "retries_per_trial": args.retries,
        "window": args.window,
        "targeted_share": args.targeted,
        "jitter_ms": args.jitter_ms,
        "document_size": f"{SENTENCES} sentences, about 3.4 KB, 7 chunks",
        "embedder": "rag.embedder.HashEmbedder (deterministic fake; no model)",
        "storage": f"chromadb {chromadb.__version__} on disk, SQLite {sqlite3.sqlite_version} "
        "manifest (WAL, synchronous=FULL)",
        "machine": f"Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} cores",
        "elapsed_s": elapsed,
        "stopped_early": stopped_early,
        "final_ms_per_document": per_doc_s * 1000,
        "totals": totals,
        "committed_per_trial": {
            "min": min(committed, default=0),
            "median": statistics.median(committed) if committed else 0,
            "max": max(committed, default=0),
            "histogram": dict(sorted(Counter(committed).items())),
        },
        "random_kills": len(random_kills),
        "aimed_kills": len(aimed_kills),
        "kill_stage_random": dict(Counter(t["stage"] for t in random_kills).most_common()),
        "kill_stage_aimed": dict(Counter(t["stage"] for t in aimed_kills).most_common()),
        "kill_after_s": _quantiles([t["kill_after_s"] for t in random_kills]),
        "kill_fraction_of_window": _quantiles(fracs),
        "recovery_totals": dict(recovery),
        "restarts_with_recovery_work": sum(
            1 for c in checks if any((c.get("recovery") or {}).values())
        ),
        "chroma_set_aside": sorted({n for c in checks for n in c.get("set_aside", [])}),
        "restart_warnings": [
            {"after_trial": t["trial"], "warnings": t["restart"]["warnings"]}
            for t in trials
            if t.get("restart", {}).get("warnings")
        ],
        "committed_not_yet_reported": sum(t["committed_not_yet_reported"] for t in trials),
        "final": final,
        "failed_restart_details": failed,
        "problems": [
            {"trial": t["trial"], "problems": t["restart"].get("problems")}
            for t in trials
            if t.get("restart", {}).get("problems") or "failed" in t.get("restart", {})
        ],
        "trials_detail": trials,
    }


def _quantiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    values = sorted(values)

    def q(p: float) -> float:
        return values[min(len(values) - 1, int(p * len(values)))]

    return {"min": values[0], "p25": q(0.25), "median": q(0.5), "p75": q(0.75), "max": values[-1]}


def markdown(data: dict[str, Any]) -> str:
    t, per = data["totals"], data["committed_per_trial"]
    final = data["final"]
    after = final.get("after_finish") or {}
    hist = ", ".join(f"{k}: {v}" for k, v in per["histogram"].items())
    stages = "; ".join(f"{k} {v}" for k, v in data["kill_stage_random"].items())
    aimed = "; ".join(f"{k} {v}" for k, v in data["kill_stage_aimed"].items())
    frac = data["kill_fraction_of_window"]
    rec = data["recovery_totals"]
    lines = [
        "## Kill -9 during ingest (`bench/bench_kill.py`)",
        "",
        f"{t['trials']} trials in one workspace (damage would accumulate): each trial a child "
        f"process ingests {data['files_per_trial']} real text files (new documents, up to "
        f"{data['rewrites_per_trial']} rewrites of committed ones, up to "
        f"{data['retries_per_trial']} retries of interrupted ones; {data['document_size']}) with "
        "`WorkspaceIndex.ingest_file` and is killed with SIGKILL at a seeded random moment; a "
        "fresh process then opens the workspace as the app does (recover() on open) and checks "
        "every document ever committed: its version, all its chunks live and found by a lexical "
        "search for its unique word, vectors equal to its chunks' embeddings and found first by "
        "dense search (last trial's documents and a sample each time, every document at the "
        f"end). Embedder: {data['embedder']}, so that the run is short on 2 cores; storage: "
        f"{data['storage']}, the real version switch. {data['machine']}; "
        f"{data['elapsed_s'] / 60:.1f} min. Re-run: `{data['command']}`.",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| trials | {t['trials']} |",
        f"| documents committed before the kills | {t['documents_committed_before_kills']} |",
        f"| committed per trial (min / median / max) | {per['min']} / {per['median']:g} / "
        f"{per['max']} |",
        f"| **documents lost** | **{t['lost']}** |",
        f"| **half-visible documents** | **{t['half_visible']}** |",
        f"| uncommitted or replaced versions visible | {t['uncommitted_visible']} |",
        f"| **failed restarts** | **{t['failed_restarts']}** |",
        f"| other inconsistencies (stray/missing vectors, pending left, FTS) | "
        f"{t['other_problems']} |",
        f"| recovery on open: pending versions cleared / orphan vectors removed / vectors "
        f"restored | {rec.get('pending_versions_cleared', 0)} / "
        f"{rec.get('orphan_vectors_removed', 0)} / {rec.get('vectors_restored', 0)} |",
        f"| final restart: re-ingest of every file | {final.get('finish_ingest')} |",
        f"| after finishing: documents live, problems | {after.get('live_documents')}, "
        f"{after.get('lost', '?')} lost, {after.get('half_visible', '?')} half visible, "
        f"{after.get('other_problems', '?')} other |",
        "",
        f"Committed per trial (documents: trials): {hist}.",
        "",
        f"{data['random_kills']} kills at a random moment (uniform over 0 to "
        f"{data['window']:g} times the expected ingest time; median "
        f"{frac.get('median', 0):.2f}, p25 {frac.get('p25', 0):.2f}, p75 "
        f"{frac.get('p75', 0):.2f}) landed: {stages}. {data['aimed_kills']} kills aimed at the "
        f"version switch (0 to {data['jitter_ms']:g} ms after a chosen file's vectors were "
        f"written or its commit began; half of them at a rewrite of a committed document) "
        f"landed: {aimed}.",
    ]
    if data["chroma_set_aside"]:
        lines += [
            "",
            f"**Chroma's folder was unreadable on {len(data['chroma_set_aside'])} restart(s)** "
            "after a kill: the index set it aside (`chroma.unreadable-*`) and recover() rebuilt "
            "the vectors from the manifest (the 'vectors restored' above). Warnings: "
            + "; ".join(w for r in data["restart_warnings"] for w in r["warnings"])
            + ".",
        ]
    if data["stopped_early"]:
        lines += ["", f"**The run stopped early: {data['stopped_early']}.**"]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--files", type=int, default=20, help="files ingested per trial")
    parser.add_argument("--rewrites", type=int, default=2, help="committed documents rewritten")
    parser.add_argument("--retries", type=int, default=2, help="interrupted documents retried")
    parser.add_argument("--dense-sample", type=int, default=10, help="older docs dense-checked")
    parser.add_argument("--window", type=float, default=1.05, help="kill window / ingest time")
    parser.add_argument(
        "--targeted", type=float, default=0.25, help="share of kills aimed at a commit"
    )
    parser.add_argument("--jitter-ms", type=float, default=3.0, help="after the aimed-at event")
    parser.add_argument("--trial-timeout", type=float, default=300, help="seconds per trial")
    parser.add_argument("--max-minutes", type=float, default=45, help="stop starting trials")
    parser.add_argument("--keep", action="store_true", help="keep the workspace folder")
    parser.add_argument("--child", choices=["trial", "final"], help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("--expect", help=argparse.SUPPRESS)
    parser.add_argument("--files-list", dest="files_json", help=argparse.SUPPRESS)
    parser.add_argument("--linger", type=float, default=60, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.mode = args.child
        return child_main(args)
    return parent_main(args)


if __name__ == "__main__":
    raise SystemExit(main())
