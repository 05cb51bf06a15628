#!/usr/bin/env bash
# The demo from a fresh clone: a virtualenv at .venv (or $VENV) with complaintd installed,
# then `complaintd demo` (sample mails and a hotline log become cases and acknowledgements).
#
#   bash scripts/demo.sh [--dir FOLDER] [--lang en]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV="${VENV:-.venv}"
if [[ ! -x "$VENV/bin/python" ]]; then
  PY="${PYTHON:-python3}"
  "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { echo "error: complaintd needs Python 3.11 or newer (set PYTHON=...)" >&2; exit 1; }
  echo "==> creating virtualenv $VENV"
  "$PY" -m venv "$VENV"
fi
echo "==> pip install -e . into $VENV"
"$VENV/bin/python" -m pip install --disable-pip-version-check -q -e .
LANG_OPT=()
ARGS=()
while (($#)); do
  case "$1" in
    --lang) LANG_OPT=(--lang "$2"); shift 2 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
exec "$VENV/bin/complaintd" "${LANG_OPT[@]}" demo "${ARGS[@]}"
