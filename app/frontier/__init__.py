"""The one approved remote route, "frontier": the gateway (policy, egress guard, ledger),
the reviewed request, the route end to end, and the API keys."""
