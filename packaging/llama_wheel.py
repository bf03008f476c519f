"""The release build of llama-cpp-python: one wheel, built once, used by the bundle and the kit.

pip's default build of llama.cpp is `-march=native`: a bundle built on a new CPU can die with
SIGILL (illegal instruction) on an older one. Release builds use a portable baseline instead
(AVX2 + FMA + F16C, as STACK-NOTES.md measured: same build time, same speed). Hardware back-ends
add their own flags (docs/DEPLOYMENT.md, "Hardware back-ends"):

    .venv/bin/python packaging/llama_wheel.py --backend cuda     # where the CUDA toolkit is
    .venv/bin/python packaging/llama_wheel.py --backend metal    # on a Mac
    LLAMA_CMAKE_ARGS="..." overrides the flags of the chosen back-end entirely.

A back-end's wheel lands in packaging/dist/wheels/<backend>/ next to a stamp file that records
its flags; it is rebuilt (with --no-cache-dir, or pip would reuse a cached wheel built with other
flags) only when the flags or the version change. The CPU build takes about 4-5 minutes on 2 cores;
CUDA builds take far longer (every GPU architecture's kernels).
"""

from __future__ import annotations

import importlib.metadata as md
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WHEELS = ROOT / "packaging" / "dist" / "wheels"
PORTABLE_CMAKE_ARGS = "-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
BACKEND_CMAKE_ARGS = {
    "cpu": PORTABLE_CMAKE_ARGS,
    # CUDA kernels for the default list of architectures (not only this machine's GPU).
    "cuda": PORTABLE_CMAKE_ARGS + " -DGGML_CUDA=on",
    # Apple silicon: Metal with its shader library embedded (no .metallib file to ship).
    "metal": "-DGGML_NATIVE=OFF -DGGML_METAL=on -DGGML_METAL_EMBED_LIBRARY=on",
}
DIST = "llama-cpp-python"


def release_cmake_args(backend: str = "cpu") -> str:
    """The flags for `backend`'s release build: LLAMA_CMAKE_ARGS if set, else the table's."""
    return os.environ.get("LLAMA_CMAKE_ARGS", "").strip() or BACKEND_CMAKE_ARGS[backend]


def _folder(backend: str) -> Path:
    return WHEELS / backend


def _stamp(backend: str, version: str) -> Path:
    return _folder(backend) / f"llama_cpp_python-{version}.cmake-args.txt"


def find_wheel(version: str, backend: str = "cpu") -> Path | None:
    found = sorted(_folder(backend).glob(f"llama_cpp_python-{version}-*.whl"))
    return found[-1] if found else None


def ensure_llama_wheel(backend: str = "cpu", version: str | None = None) -> Path:
    """The release wheel of llama-cpp-python `version` (default: the one installed here) for
    `backend`, built with release_cmake_args(backend) unless an identical build is present."""
    version = version or md.version(DIST)
    cmake_args = release_cmake_args(backend)
    wheel, stamp = find_wheel(version, backend), _stamp(backend, version)
    if wheel is not None and stamp.is_file() and stamp.read_text().strip() == cmake_args:
        print(f"llama.cpp: using {wheel.name} ({backend}: {cmake_args})", flush=True)
        return wheel
    folder = _folder(backend)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"llama_cpp_python-{version}-*.whl"):
        old.unlink()
    print(f"llama.cpp: building {DIST}=={version} with {cmake_args} (about 5 min)...", flush=True)
    env = dict(os.environ, CMAKE_ARGS=cmake_args)
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir", "-w", str(folder),
           f"{DIST}=={version}"]  # fmt: skip
    subprocess.run(cmd, env=env, check=True)
    wheel = find_wheel(version, backend)
    if wheel is None:
        raise SystemExit(f"pip wheel did not produce a {DIST} wheel in {folder}")
    stamp.write_text(cmake_args + "\n")
    return wheel


def extract_libs(wheel: Path, dest: Path) -> list[Path]:
    """Copy the shared libraries of the wheel's llama_cpp/lib/ into `dest` (emptied first)."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    out = []
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            name = info.filename
            if name.startswith("llama_cpp/lib/") and not name.endswith("/"):
                target = dest / Path(name).name
                target.write_bytes(zf.read(info))
                out.append(target)
    if not out:
        raise SystemExit(f"{wheel.name} holds no llama_cpp/lib/ libraries")
    return out


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--backend", choices=sorted(BACKEND_CMAKE_ARGS), default="cpu")
    args = p.parse_args(argv)
    print(ensure_llama_wheel(args.backend))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
