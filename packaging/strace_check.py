"""Read `strace -f -e trace=connect` output: which connections left loopback?

A Python socket guard cannot see native code; strace sees every connect() of the process and
its children. AF_UNIX (and other local families) stay on this machine and are ignored.
"""

from __future__ import annotations

import re

STRACE_PREFIX = ("strace", "-f", "-qq", "-e", "trace=connect")
_ADDR = re.compile(
    r'sa_family=(AF_INET6?),.*?(?:inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6?, "([^"]+)")'
)


def non_loopback_connects(trace: str) -> list[str]:
    """The trace lines whose connect() targets an IPv4/IPv6 address outside loopback."""
    bad = []
    for line in trace.splitlines():
        if "connect(" not in line:
            continue
        m = _ADDR.search(line)
        if m is None:
            continue
        family, addr = m.group(1), m.group(2) or m.group(3)
        if (family == "AF_INET" and not addr.startswith("127.")) or (
            family == "AF_INET6" and addr not in ("::1", "::ffff:127.0.0.1")
        ):
            bad.append(line)
    return bad


def connect_count(trace: str) -> int:
    """How many connect() calls the trace holds (of any family)."""
    return sum(1 for line in trace.splitlines() if "connect(" in line)
