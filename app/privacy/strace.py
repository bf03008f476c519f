"""Read `strace -f -e trace=connect` output: which connections left loopback, and to where?

The OS-level half of the privacy proof (tests, `make bundle-smoke`): a Python socket guard cannot
see native code, strace sees every connect() of a process and its children. AF_UNIX (and other
local families) stay on this machine and are ignored. Pure text parsing; nothing is run here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STRACE_PREFIX = ("strace", "-f", "-qq", "-e", "trace=connect")
_ADDR = re.compile(
    r"sa_family=(AF_INET6?),\s*sin6?_port=htons\((\d+)\).*?"
    r'(?:inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6?, "([^"]+)")'
)


@dataclass(frozen=True)
class Connect:
    """One connect() to an IP address: the trace line and where it went."""

    line: str
    family: str  # "AF_INET" or "AF_INET6"
    address: str
    port: int

    @property
    def loopback(self) -> bool:
        if self.family == "AF_INET":
            return self.address.startswith("127.")
        return self.address in ("::1", "::ffff:127.0.0.1") or self.address.startswith("::ffff:127.")


def ip_connects(trace: str) -> list[Connect]:
    """Every connect() to an IPv4/IPv6 address in the trace, in order."""
    found = []
    for line in trace.splitlines():
        if "connect(" not in line:
            continue
        m = _ADDR.search(line)
        if m is not None:
            found.append(Connect(line, m.group(1), m.group(3) or m.group(4), int(m.group(2))))
    return found


def non_loopback_connects(trace: str) -> list[str]:
    """The trace lines whose connect() targets an address outside loopback."""
    return [c.line for c in ip_connects(trace) if not c.loopback]


def connect_count(trace: str) -> int:
    """How many connect() calls the trace holds (of any family)."""
    return sum(1 for line in trace.splitlines() if "connect(" in line)
