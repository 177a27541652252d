#!/usr/bin/env bash
# The Python the oracle tests run: a virtualenv under target/ with the pinned libraries nobody
# here wrote (quantstats, empyrical-reloaded, vectorbt, backtrader, scipy from PyPI), created or
# updated when the pins change. Prints the interpreter's path; installs quietly to stderr.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VENV="${ORACLE_VENV:-$ROOT/target/oracle-venv}"
PINS="$ROOT/scripts/oracles/requirements.txt"
STAMP="$VENV/.pins"
if ! [[ -x "$VENV/bin/python" ]] || ! cmp -s "$PINS" "$STAMP"; then
  echo "oracles: installing $(tr '\n' ' ' < "$PINS")into $VENV" >&2
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$PINS" >&2
  cp "$PINS" "$STAMP"
fi
echo "$VENV/bin/python"
