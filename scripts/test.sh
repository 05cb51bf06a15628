#!/usr/bin/env bash
# The one test command, from a fresh Debian 12 machine or a developer's checkout:
#
#   bash scripts/test.sh [pytest args...]
#
# 1. a virtualenv at .venv (or $VENV) with `pip install -e '.[test]'`;
# 2. Dovecot (apt-get install dovecot-imapd, when root and missing);
# 3. PostgreSQL: start the first pg_lsclusters cluster, create the login role
#    complaintd/complaintd, export COMPLAINTD_TEST_PG_URL;
# 4. Chromium and the CJK fonts for the console's browser tests (apt-get install chromium
#    fonts-noto-cjk, when root and missing; Playwright drives it, no browser download);
# 5. ruff, mypy, pytest -- stopping at the first failure.
#
# Safe to run again: every step checks before it acts. Without root it installs and
# starts nothing system-wide; tests that need a missing server then skip (or fail
# when CI=true, where a missing server is an error).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

VENV="${VENV:-.venv}"
PG_ROLE=complaintd
LINT_DIRS=(casework intake routing notifications handling privacy web complaintd tests bench scripts)
APT_UPDATED=0

say() { printf '\n==> %s\n' "$*"; }
note() { printf '    note: %s\n' "$*"; }
is_root() { [[ $EUID -eq 0 ]]; }

apt_install() {
  if ((APT_UPDATED == 0)); then
    say "apt-get update"
    apt-get update -q
    APT_UPDATED=1
  fi
  say "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

find_python() {
  local candidate
  for candidate in "${PYTHON:-}" python3.11 python3; do
    [[ -n "$candidate" ]] && command -v "$candidate" >/dev/null || continue
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      echo "$candidate"
      return
    fi
  done
  echo "error: Python 3.11 or newer not found (set PYTHON=...)" >&2
  exit 1
}

setup_venv() {
  local python stamp want
  if [[ ! -x "$VENV/bin/python" ]]; then
    python="$(find_python)"
    # Debian leaves ensurepip out of the base python3 package.
    if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
      is_root || { echo "error: $python cannot create venvs; apt-get install python3-venv" >&2; exit 1; }
      apt_install python3-venv
    fi
    say "creating virtualenv $VENV with $python ($("$python" --version))"
    "$python" -m venv "$VENV"
  else
    say "reusing virtualenv $VENV ($("$VENV/bin/python" --version))"
  fi
  # Re-install only when pyproject.toml changed since the last install into this venv.
  stamp="$VENV/.complaintd-installed"
  want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    say "dependencies up to date (pyproject.toml unchanged)"
  else
    say "pip install -e '.[test]' into $VENV"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q -e '.[test]'
    echo "$want" >"$stamp"
  fi
}

setup_dovecot() {
  if command -v dovecot >/dev/null || [[ -x /usr/sbin/dovecot ]]; then
    say "Dovecot: $(PATH="$PATH:/usr/sbin" dovecot --version) (the tests run their own instance)"
  elif is_root; then
    apt_install dovecot-imapd
  else
    note "dovecot is not installed and we are not root: IMAP tests will skip" \
      "(fail under CI=true); apt-get install dovecot-imapd"
  fi
}

setup_chromium() {
  local missing=()
  [[ -x /usr/bin/chromium ]] || missing+=(chromium)
  # Without the CJK fonts Chinese renders as boxes in the screenshots.
  if ! { command -v fc-list >/dev/null && fc-list :lang=zh | grep -q .; }; then
    missing+=(fonts-noto-cjk)
  fi
  if ((${#missing[@]} == 0)); then
    say "Chromium: $(/usr/bin/chromium --version 2>/dev/null | tail -n 1) (driven by Playwright)"
  elif is_root; then
    apt_install "${missing[@]}"
  else
    note "${missing[*]} not installed and we are not root: browser tests will skip" \
      "(fail under CI=true); apt-get install chromium fonts-noto-cjk"
  fi
}

as_postgres() {
  # From / so that psql does not complain about an unreadable working directory.
  (cd / && runuser -u postgres -- "$@")
}

start_cluster() {
  local version="$1" name="$2" port="$3" status="$4"
  if [[ "$status" != online* ]]; then
    if ! is_root; then
      note "PostgreSQL $version/$name is $status and we are not root to start it"
      return 1
    fi
    say "starting PostgreSQL cluster $version/$name on port $port"
    pg_ctlcluster "$version" "$name" start
  fi
  for _ in $(seq 1 60); do
    pg_isready -q -h 127.0.0.1 -p "$port" && return 0
    sleep 0.5
  done
  echo "error: PostgreSQL $version/$name did not accept connections on port $port" >&2
  exit 1
}

ensure_role() {
  local port="$1"
  if ! is_root; then
    note "not root: assuming role $PG_ROLE (password $PG_ROLE, CREATEDB) exists"
    return
  fi
  say "ensuring PostgreSQL login role $PG_ROLE (CREATEDB)"
  local sql="DO \$\$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_ROLE') THEN
      CREATE ROLE $PG_ROLE LOGIN CREATEDB PASSWORD '$PG_ROLE';
    ELSE
      ALTER ROLE $PG_ROLE LOGIN CREATEDB PASSWORD '$PG_ROLE';
    END IF;
  END \$\$;"
  as_postgres psql -X -q -p "$port" -d postgres -v ON_ERROR_STOP=1 -c "$sql"
}

setup_postgres() {
  if [[ -n "${COMPLAINTD_TEST_PG_URL:-}" ]]; then
    say "PostgreSQL: using COMPLAINTD_TEST_PG_URL from the environment"
    return
  fi
  if ! command -v pg_lsclusters >/dev/null; then
    note "PostgreSQL is not installed (no pg_lsclusters): PostgreSQL tests will skip" \
      "(fail under CI=true)"
    return
  fi
  local version name port status
  read -r version name port status _ < <(pg_lsclusters --no-header | head -n 1) || true
  if [[ -z "${version:-}" ]]; then
    note "no PostgreSQL cluster (pg_lsclusters is empty); create one with pg_createcluster"
    return
  fi
  say "PostgreSQL cluster $version/$name: port $port, $status"
  start_cluster "$version" "$name" "$port" "$status" || return 0
  ensure_role "$port"
  export COMPLAINTD_TEST_PG_URL="postgresql+psycopg://$PG_ROLE:$PG_ROLE@127.0.0.1:$port/postgres"
  say "COMPLAINTD_TEST_PG_URL=$COMPLAINTD_TEST_PG_URL"
}

run_checks() {
  local dirs=() dir
  for dir in "${LINT_DIRS[@]}"; do
    [[ -d "$dir" ]] && dirs+=("$dir")
  done
  say "ruff check ${dirs[*]}"
  "$VENV/bin/ruff" check "${dirs[@]}"

  # mypy checks the packages listed in pyproject.toml; pass only those that exist.
  local split present missing
  split="$("$VENV/bin/python" - <<'EOF'
import pathlib, tomllib
packages = tomllib.loads(pathlib.Path("pyproject.toml").read_text())["tool"]["mypy"]["packages"]
present = [p for p in packages if pathlib.Path(p).is_dir()]
print(" ".join(present), "|", " ".join(p for p in packages if p not in present))
EOF
)"
  read -r -a present <<<"${split%%|*}"
  missing="${split#*|}"
  if [[ -z "${missing// /}" ]]; then
    say "mypy (packages from pyproject.toml: ${present[*]})"
    "$VENV/bin/mypy"
  else
    say "mypy ${present[*]} (not present yet:$missing)"
    "$VENV/bin/mypy" $(printf -- '-p %s ' "${present[@]}")
  fi

  say "pytest $*"
  "$VENV/bin/python" -m pytest "$@"
}

say "complaintd tests in $(pwd) (CI=${CI:-unset}, user $(id -un))"
setup_venv
setup_dovecot
setup_chromium
setup_postgres
run_checks "$@"
say "all checks passed"
