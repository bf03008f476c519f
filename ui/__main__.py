"""`python -m ui` (and `enclave gui`): open the Enclave desktop window."""

from ui.app import main

raise SystemExit(main())
