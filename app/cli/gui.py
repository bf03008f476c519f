"""`enclave gui`: opens the desktop window.

The window lives in the `ui` layer, which `app` must not import; so this command starts it as
`python -m ui` in a child process with the same environment (ENCLAVE_HOME included).
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
from typing import TYPE_CHECKING

from app.cli.output import CliError

if TYPE_CHECKING:
    from app.container import Enclave


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("gui", help="open the desktop window")
    p.set_defaults(func=cmd_gui)


def cmd_gui(args: argparse.Namespace, enclave: Enclave) -> int:
    if (
        importlib.util.find_spec("PySide6") is None
        or importlib.util.find_spec("ui.__main__") is None
    ):
        raise CliError(
            "The desktop window is not available in this installation; "
            "use `enclave shell` or `enclave ask`."
        )
    return subprocess.call([sys.executable, "-m", "ui"])
