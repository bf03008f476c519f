"""Turn off every dependency's telemetry and hub access. Call before importing them."""

from __future__ import annotations

import os

# Each switch was seen to matter (see shared/design/STACK-NOTES.md).
TELEMETRY_SWITCHES: dict[str, str] = {
    "ORT_DISABLE_TELEMETRY": "1",  # onnxruntime (pulled in by chromadb) phones home on import
    "ANONYMIZED_TELEMETRY": "False",  # chromadb's posthog client
    "CHROMA_TELEMETRY": "False",
    "HF_HUB_OFFLINE": "1",  # sentence-transformers / transformers: never reach the hub
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "DO_NOT_TRACK": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # no progress bars on the user's terminal
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "POSTHOG_DISABLED": "1",
}


def disable_telemetry() -> None:
    """Set every telemetry/offline switch in this process's environment (overriding any value)."""
    os.environ.update(TELEMETRY_SWITCHES)
