"""A network namespace that plays a host off this machine, for the whole-session privacy tests.

`namespace_host` links a fresh namespace to this machine by a veth pair on a /30 of `net`
(`<net>.N.1` here, `<net>.N.2` there, N from the process id) and removes both when done;
commands run inside it with `Namespace.prefix`. Needs root, `ip`, `strace` and `openssl`
(`require_netns` skips with the reason otherwise).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class Namespace:
    name: str
    here: str  # this machine's end of the veth pair
    there: str  # the namespace's end: the host off this machine

    @property
    def prefix(self) -> tuple[str, ...]:
        return ("ip", "netns", "exec", self.name)


def run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def require_netns() -> None:
    """Skip the test, with the reason, where the tools or root are missing."""
    missing = [tool for tool in ("ip", "strace", "openssl") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (apt: iproute2 strace openssl)")
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")


@contextmanager
def namespace_host(ns_prefix: str, veth_prefix: str, net: str) -> Iterator[Namespace]:
    """Namespace `<ns_prefix>N`, veth `<veth_prefix>Na`/`b`; skips if it cannot be built."""
    n = 100 + os.getpid() % 150
    ns, outer, inner = f"{ns_prefix}{n}", f"{veth_prefix}{n}a", f"{veth_prefix}{n}b"
    here, there = f"{net}.{n}.1", f"{net}.{n}.2"
    setup = [
        ["ip", "netns", "add", ns],
        ["ip", "link", "add", outer, "type", "veth", "peer", "name", inner],
        ["ip", "link", "set", inner, "netns", ns],
        ["ip", "addr", "add", f"{here}/30", "dev", outer],
        ["ip", "link", "set", outer, "up"],
        ["ip", "netns", "exec", ns, "ip", "addr", "add", f"{there}/30", "dev", inner],
        ["ip", "netns", "exec", ns, "ip", "link", "set", inner, "up"],
        ["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"],
    ]
    try:
        for step in setup:
            done = run(*step)
            if done.returncode != 0:
                pytest.skip(f"cannot build a test network ({' '.join(step)}): {done.stderr}")
        yield Namespace(ns, here, there)
    finally:
        run("ip", "link", "del", outer)
        run("ip", "netns", "del", ns)
