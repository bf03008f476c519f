"""`python -m app` is the same as the `enclave` command."""

from app.cli import main

raise SystemExit(main())
