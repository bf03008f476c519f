#!/usr/bin/env bash
# Prove the offline kit installs and works with the network cut:
#   packaging/verify_offline_kit.sh [KIT] [PYTHON]
# KIT: the kit folder (default packaging/dist/offline-kit, from `make offline-kit`).
# PYTHON: the interpreter to install with (default: the one .venv was made from).
#
# Runs install.sh in a fresh virtual environment inside a new network namespace that has no
# interface but a downed loopback (`unshare -rn`: nothing can be reached, not even a local
# proxy), with a bare environment (no pip.conf: PIP_CONFIG_FILE=/dev/null, no PIP_* variables,
# a temporary HOME) so the machine's own wheel folders and indexes cannot help. install.sh ends
# with the self-test, which must pass. Prints the time each step took. Needs util-linux unshare
# and user namespaces (or root).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KIT=$(cd "${1:-$ROOT/packaging/dist/offline-kit}" && pwd)
PY=${2:-$("$ROOT/.venv/bin/python" -c 'import sys, os; print(os.path.realpath(sys._base_executable))')}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/enclave-kit-verify.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/home"

offline() {  # run "$@" with no network and a bare environment
  env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$WORK/home" LANG=C.UTF-8 TMPDIR="$WORK" \
    PYTHON="$PY" unshare -rn "$@"
}

echo "== network check: inside the namespace nothing is reachable"
offline "$PY" -c '
import socket, sys
s = socket.socket(); s.settimeout(3)
code = s.connect_ex(("1.1.1.1", 443))
print("connect to 1.1.1.1:443 ->", code)
sys.exit(0 if code != 0 else 1)'

start=$(date +%s)
echo "== install.sh (pip --no-index from the kit) and the self-test, offline"
offline sh "$KIT/install.sh" "$WORK/venv"
end=$(date +%s)

echo "== the installed command line works offline"
offline "$WORK/venv/bin/enclave" doctor | sed -n '1p;/Offline/p'
echo "(doctor: $(( $(date +%s) - end )) s)"
echo "OFFLINE KIT VERIFIED: installed and self-tested with no network in $((end - start)) s"
