"""What this computer offers llama.cpp: cores, and GPU offload (CUDA, Metal, Vulkan...).

`detect_hardware()` imports llama_cpp (about 0.2 s) and asks ggml's backend registry which
devices it was built with. Nothing is loaded onto a device.
"""

from __future__ import annotations

import ctypes
import importlib.metadata as md
import os
from dataclasses import asdict, dataclass, field
from typing import Any

# ggml_backend_dev_type (ggml-backend.h)
_DEV_TYPES = {0: "cpu", 1: "gpu", 2: "igpu", 3: "accel"}
_BACKEND_PREFIXES = (
    ("cuda", "cuda"),
    ("metal", "metal"),
    ("mtl", "metal"),
    ("vulkan", "vulkan"),
    ("rocm", "rocm"),
    ("hip", "rocm"),
    ("sycl", "sycl"),
    ("opencl", "opencl"),
    ("cann", "cann"),
)
DISPLAY_NAMES = {"cpu": "CPU", "cuda": "CUDA", "metal": "Metal", "vulkan": "Vulkan"}


@dataclass(frozen=True)
class Device:
    name: str
    description: str
    type: str  # "cpu", "gpu", "igpu" (shares system memory) or "accel"
    memory_free: int
    memory_total: int


@dataclass(frozen=True)
class HardwareInfo:
    backend: str  # "cpu", "cuda", "metal", "vulkan", "rocm", ...
    gpu_offload_supported: bool
    physical_cores: int
    logical_cores: int
    llama_cpp_version: str
    system_info: str
    devices: tuple[Device, ...] = field(default_factory=tuple)
    total_memory: int = 0

    @property
    def display_backend(self) -> str:
        return DISPLAY_NAMES.get(self.backend, self.backend.upper())

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["devices"] = [asdict(d) for d in self.devices]
        return data


def physical_core_count() -> int:
    """Physical cores (llama.cpp is fastest with one thread per physical core)."""
    try:
        import psutil

        n = psutil.cpu_count(logical=False)
        if n:
            return int(n)
    except Exception:
        pass
    logical = os.cpu_count() or 1
    return max(1, logical // 2) if logical >= 4 else logical


def _total_memory() -> int:
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except Exception:
        return 0


def _enumerate_devices() -> list[Device]:
    """ggml's backend devices through its C API (llama_cpp binds no Python names for them)."""
    from llama_cpp import _ggml

    lib = _ggml.libggml
    lib.ggml_backend_dev_count.restype = ctypes.c_size_t
    lib.ggml_backend_dev_count.argtypes = []
    lib.ggml_backend_dev_get.restype = ctypes.c_void_p
    lib.ggml_backend_dev_get.argtypes = [ctypes.c_size_t]
    for name in ("ggml_backend_dev_name", "ggml_backend_dev_description"):
        getattr(lib, name).restype = ctypes.c_char_p
        getattr(lib, name).argtypes = [ctypes.c_void_p]
    lib.ggml_backend_dev_type.restype = ctypes.c_int
    lib.ggml_backend_dev_type.argtypes = [ctypes.c_void_p]
    lib.ggml_backend_dev_memory.restype = None
    lib.ggml_backend_dev_memory.argtypes = [
        ctypes.c_void_p,
        ctypes.POINTER(ctypes.c_size_t),
        ctypes.POINTER(ctypes.c_size_t),
    ]
    devices = []
    for i in range(int(lib.ggml_backend_dev_count())):
        dev = lib.ggml_backend_dev_get(i)
        free, total = ctypes.c_size_t(0), ctypes.c_size_t(0)
        lib.ggml_backend_dev_memory(dev, ctypes.byref(free), ctypes.byref(total))
        devices.append(
            Device(
                name=(lib.ggml_backend_dev_name(dev) or b"").decode(errors="replace"),
                description=(lib.ggml_backend_dev_description(dev) or b"").decode(errors="replace"),
                type=_DEV_TYPES.get(int(lib.ggml_backend_dev_type(dev)), "other"),
                memory_free=int(free.value),
                memory_total=int(total.value),
            )
        )
    return devices


def backend_of(devices: list[Device] | tuple[Device, ...]) -> str:
    """The backend name ("cuda", "metal", ...) of the first GPU-like device, else "cpu"."""
    for dev in devices:
        if dev.type in ("gpu", "igpu"):
            lowered = dev.name.lower()
            for prefix, backend in _BACKEND_PREFIXES:
                if lowered.startswith(prefix):
                    return backend
            return lowered.rstrip("0123456789") or "gpu"
    return "cpu"


def detect_hardware() -> HardwareInfo:
    """Cores, llama.cpp's build, and the devices it can offload to."""
    import llama_cpp

    try:
        devices = _enumerate_devices()
    except (OSError, AttributeError):
        devices = []
    try:
        version = md.version("llama-cpp-python")
    except md.PackageNotFoundError:
        version = getattr(llama_cpp, "__version__", "unknown")
    return HardwareInfo(
        backend=backend_of(devices),
        gpu_offload_supported=bool(llama_cpp.llama_supports_gpu_offload()),
        physical_cores=physical_core_count(),
        logical_cores=os.cpu_count() or 1,
        llama_cpp_version=version,
        system_info=llama_cpp.llama_print_system_info().decode(errors="replace").strip(" |"),
        devices=tuple(devices),
        total_memory=_total_memory(),
    )


def recommended_gpu_layers(
    hw: HardwareInfo, model_size_bytes: int, n_layers: int, headroom: float = 1.25
) -> int:
    """How many layers to offload: 0 without GPU offload, -1 (all) when the model fits with
    `headroom` for the KV cache and buffers, else the share of layers that fits in free memory.
    """
    if not hw.gpu_offload_supported or hw.backend == "cpu" or n_layers <= 0:
        return 0
    gpus = [d for d in hw.devices if d.type in ("gpu", "igpu")]
    if hw.backend == "metal" or any(d.type == "igpu" for d in gpus):
        budget = int(hw.total_memory * 0.65) if hw.total_memory else 0  # unified memory
    else:
        budget = max((d.memory_free for d in gpus), default=0)
    if budget <= 0 or model_size_bytes <= 0:
        return 0
    needed = model_size_bytes * headroom
    if needed <= budget:
        return -1
    return max(0, int(n_layers * budget / needed))
