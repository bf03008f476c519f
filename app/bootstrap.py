"""The first thing every entry point runs: telemetry off, egress guard on."""

from __future__ import annotations

from app.privacy.egress import install_egress_guard
from app.privacy.telemetry import disable_telemetry


def secure_process() -> None:
    """Turn every dependency's telemetry off and refuse non-loopback sockets. Idempotent."""
    disable_telemetry()
    install_egress_guard()
