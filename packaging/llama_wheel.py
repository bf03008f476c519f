"""The release build of llama-cpp-python: one wheel, built once, used by the bundle and the kit.

pip's default build of llama.cpp is `-march=native`: a bundle built on a new CPU can die with
SIGILL (illegal instruction) on an older one. Release builds use a portable baseline instead
(AVX2 + FMA + F16C, as STACK-NOTES.md measured: same build time, same speed). Hardware back-ends
add their own flags (docs/DEPLOYMENT.md, "Hardware back-ends"):

    .venv/bin/python packaging/llama_wheel.py --backend cuda     # where the CUDA toolkit is
    .venv/bin/python packaging/llama_wheel.py --backend metal    # on a Mac
    LLAMA_CMAKE_ARGS="..." overrides the flags of the chosen back-end entirely.

`--ensure-installed` checks the build in this venv instead (`make` runs it after every install):
pip caches the wheel it built from the sdist without recording CMAKE_ARGS, so a wheel once built
with -march=native is reused by every later install on that machine, whatever flags it asks for.
When the installed build does not match CMAKE_ARGS (AVX-512 compiled in although GGML_NATIVE=OFF,
or no GPU offload although GGML_CUDA=on), the cached wheel is dropped and llama-cpp-python rebuilt.

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


def _flag_on(cmake_args: str, name: str) -> bool | None:
    """True/False when CMAKE_ARGS sets -D<name>=on/off (any case), None when it does not say."""
    for arg in cmake_args.split():
        key, _, value = arg.removeprefix("-D").partition("=")
        if key.upper() == name:
            return value.strip().upper() in ("ON", "1", "TRUE", "YES")
    return None


def installed_mismatch(cmake_args: str) -> str | None:
    """Why the llama.cpp build in this interpreter does not match `cmake_args` (None: it does).

    Runs in a child process: loading llama.cpp here would keep its libraries mapped while pip
    replaces them."""
    probe = ("import llama_cpp; print(llama_cpp.llama_print_system_info().decode()); "
             "print('GPU_OFFLOAD', int(llama_cpp.llama_supports_gpu_offload()))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return "llama_cpp does not load"
    info = out.stdout
    portable = _flag_on(cmake_args, "GGML_NATIVE") is False
    if portable and _flag_on(cmake_args, "GGML_AVX512") is not True and "AVX512 = 1" in info:
        return "built -march=native (AVX-512 compiled in); CMAKE_ARGS asks for a portable build"
    if _flag_on(cmake_args, "GGML_CUDA") and "GPU_OFFLOAD 1" not in info:
        return "CMAKE_ARGS asks for CUDA but the installed build cannot offload to a GPU"
    return None


def ensure_installed(cmake_args: str) -> int:
    """Rebuild the venv's llama-cpp-python when it does not match `cmake_args`; 0 when it does."""
    why = installed_mismatch(cmake_args)
    if why is None:
        print(f"llama.cpp: the installed build matches CMAKE_ARGS ({cmake_args or 'none'})")
        return 0
    version = md.version(DIST)
    print(f"llama.cpp: rebuilding {DIST}=={version}: {why} (about 5 min)...", flush=True)
    pip = [sys.executable, "-m", "pip"]
    subprocess.run([*pip, "cache", "remove", "llama_cpp_python"], check=False)
    env = dict(os.environ, CMAKE_ARGS=cmake_args)
    cmd = [*pip, "install", "-q", "--force-reinstall", "--no-deps", f"{DIST}=={version}"]
    subprocess.run(cmd, env=env, check=True)
    why = installed_mismatch(cmake_args)
    if why is not None:
        print(f"llama.cpp: the rebuilt {DIST} still does not match: {why}", file=sys.stderr)
        return 1
    return 0


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
    p.add_argument(
        "--ensure-installed",
        action="store_true",
        help="check the installed build against CMAKE_ARGS; rebuild if it differs",
    )
    args = p.parse_args(argv)
    if args.ensure_installed:
        return ensure_installed(os.environ.get("CMAKE_ARGS", "").strip())
    print(ensure_llama_wheel(args.backend))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
