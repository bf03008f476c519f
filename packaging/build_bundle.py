"""Build the one-folder app (`make bundle`): packaging/dist/enclave/enclave.

    .venv/bin/python packaging/build_bundle.py                 # release: portable llama.cpp
    .venv/bin/python packaging/build_bundle.py --llama venv    # llama.cpp as installed here
    .venv/bin/python packaging/build_bundle.py --backend cuda  # the CUDA release build

--llama portable (default) takes llama.cpp's shared libraries from the release wheel
(packaging/llama_wheel.py: GGML_NATIVE=OFF, AVX2 baseline, or LLAMA_CMAKE_ARGS), building it
first if needed (about 5 min once). --llama venv bundles the build environment's own libraries:
right when that environment was itself installed with the release flags (CI does this: .ci/run
exports CMAKE_ARGS before the install), or for a quick local build.

PyInstaller runs with every telemetry switch set: its analysis imports libraries (onnxruntime
among them) that would otherwise write a device id and phone home. Writes BUILD-INFO.json into
the bundle (build time, llama.cpp flags, size).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.privacy.telemetry import TELEMETRY_SWITCHES  # noqa: E402


def folder_size(folder: Path) -> int:
    """Bytes of every file under `folder` (links not followed)."""
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def _children_cpu_seconds() -> float:
    try:
        import resource
    except ImportError:  # Windows
        return 0.0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--llama", choices=("portable", "venv"), default="portable")
    p.add_argument(
        "--backend",
        choices=("cpu", "cuda", "metal"),
        default="cpu",
        help="which release build of llama.cpp (with --llama portable)",
    )
    p.add_argument("--dist", type=Path, default=ROOT / "packaging" / "dist")
    args = p.parse_args(argv)

    env = dict(os.environ, **TELEMETRY_SWITCHES)
    llama: dict[str, str] = {"mode": args.llama}
    if args.llama == "portable":
        from llama_wheel import ensure_llama_wheel, extract_libs, release_cmake_args

        wheel = ensure_llama_wheel(args.backend)
        lib_dir = ROOT / "packaging" / "build" / "llama-lib"
        extract_libs(wheel, lib_dir)
        env["ENCLAVE_LLAMA_LIB_DIR"] = str(lib_dir)
        llama.update(
            backend=args.backend, wheel=wheel.name, cmake_args=release_cmake_args(args.backend)
        )
    else:
        env.pop("ENCLAVE_LLAMA_LIB_DIR", None)
        llama["cmake_args"] = os.environ.get("CMAKE_ARGS", "") or "(as installed)"

    out = args.dist / "enclave"
    cpu_before = _children_cpu_seconds()
    started = time.perf_counter()
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
           "--distpath", str(args.dist), "--workpath", str(ROOT / "packaging" / "build" / "pyi"),
           str(ROOT / "packaging" / "enclave.spec")]  # fmt: skip
    subprocess.run(cmd, env=env, cwd=ROOT, check=True)
    seconds = time.perf_counter() - started
    cpu = _children_cpu_seconds() - cpu_before  # PyInstaller and its helper processes
    size = folder_size(out)
    info = {
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "pyinstaller_seconds": round(seconds, 1),
        "pyinstaller_cpu_seconds": round(cpu, 1),
        "size_bytes": size,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "llama_cpp": llama,
    }
    (out / "BUILD-INFO.json").write_text(json.dumps(info, indent=2) + "\n")
    sample = out / "_internal" / "sample"
    if sample.is_dir():  # also beside the program, where a person finds it
        shutil.copytree(sample, out / "sample", dirs_exist_ok=True)
    print(f"Built {out} in {seconds:.0f} s: {size / 2**20:.0f} MiB. Check it: make bundle-smoke")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
