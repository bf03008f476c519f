"""The first things every entry point runs: telemetry off, egress guard on, then the guard's
reports pointed at the audit ledger once the entry point has one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.privacy.egress import install_egress_guard
from app.privacy.telemetry import disable_telemetry

if TYPE_CHECKING:
    from app.privacy.ledger import AuditLedger


def secure_process() -> None:
    """Turn every dependency's telemetry off and refuse non-loopback sockets. Idempotent."""
    disable_telemetry()
    install_egress_guard()


def record_egress(ledger: AuditLedger) -> None:
    """Every non-loopback attempt (allowed or refused) from now on becomes a line in `ledger`.
    Entry points call this once, with their Enclave's ledger; a constructor never does."""
    from app.frontier.gateway import egress_recorder
    from app.privacy.egress import GUARD

    GUARD.recorder = egress_recorder(ledger)
