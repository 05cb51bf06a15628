#!/usr/bin/env bash
# Ingester for ../shared/peer-bench: complaintd's own IMAP intake (raw stored, parsed,
# case created, acknowledgement queued, message moved after the commit).
# Contract (see ../shared/peer-bench/README.md): prepare | reset | ingest | count | version
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PY="${COMPLAINTD_PYTHON:-/tmp/venv/bin/python}"
: "${BENCH_WORK:=/tmp/peer-bench-work/complaintd}"
: "${BENCH_DB:=$BENCH_WORK/db.sqlite3}"
export BENCH_WORK BENCH_DB
case "${1:-}" in
  # Byte-compiled once, as an install would: a process that may not write .pyc files
  # (PYTHONDONTWRITEBYTECODE) would otherwise compile every module at each start.
  prepare) "$PY" -c 'import complaintd, imapclient'
           "$PY" -m compileall -q "$REPO/casework" "$REPO/intake" "$REPO/routing" \
             "$REPO/notifications" "$REPO/handling" "$REPO/complaintd" >/dev/null ;;
  reset)   rm -rf "$BENCH_WORK/data" "$BENCH_DB" "$BENCH_DB"-wal "$BENCH_DB"-shm
           mkdir -p "$BENCH_WORK"; "$PY" "$REPO/bench/intake_ingest.py" reset ;;
  ingest)  exec "$PY" "$REPO/bench/intake_ingest.py" ingest ;;
  count)   "$PY" "$REPO/bench/intake_ingest.py" count ;;
  version) "$PY" -c 'import sys, sqlite3; print("complaintd 0.1 / python", sys.version.split()[0], "/ sqlite", sqlite3.sqlite_version)' ;;
  *) echo "usage: $0 prepare|reset|ingest|count|version" >&2; exit 2 ;;
esac
