#!/usr/bin/env bash
# The one test command (README, .ci/run): formatting, lints, every test on
# SQLite, then every database test again on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
started=$(date +%s)

step "formatting (cargo fmt --check)"
cargo fmt --all -- --check

step "lints (cargo clippy -D warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings

if ! command -v shellcheck >/dev/null 2>&1 && [ "${CI:-}" = true ] && [ "$(id -u)" = 0 ]; then
    step "installing shellcheck (Debian package)"
    { apt-get install -y -qq shellcheck || { apt-get update -qq && apt-get install -y -qq shellcheck; }; } >/dev/null 2>&1 ||
        echo "could not install shellcheck"
fi
if command -v shellcheck >/dev/null 2>&1; then
    step "shell scripts (shellcheck)"
    shellcheck scripts/*.sh .ci/run
else
    step "shellcheck not installed: shell scripts not linted (apt-get install shellcheck)"
fi

step "test peers (Python: aiosmtpd, http-ece, cryptography)"
if ! python3 -c "import aiosmtpd, http_ece, cryptography" 2>/dev/null; then
    python3 -m pip install --quiet aiosmtpd http-ece cryptography ||
        { echo "The delivery tests need Python 3 with aiosmtpd, http-ece and cryptography (pip install them)."; exit 1; }
fi
python3 -c "import aiosmtpd, http_ece, cryptography; print('python peers ready')"

step "all tests on SQLite"
cargo test --workspace --locked

step "PostgreSQL"
if [ -n "${STOREHUB_TEST_POSTGRES_URL:-}" ]; then
    pg_url="$STOREHUB_TEST_POSTGRES_URL"
else
    pg_url=$(scripts/ensure-postgres.sh | tail -n 1)
fi
export STOREHUB_TEST_POSTGRES_URL="$pg_url"
# Databases left by earlier runs (each test makes its own copy of a template).
if command -v psql >/dev/null 2>&1; then
    psql "$pg_url/postgres" -Atqc "SELECT datname FROM pg_database WHERE datname LIKE 'storehub_test_%'" |
        while read -r name; do psql "$pg_url/postgres" -qc "DROP DATABASE IF EXISTS \"$name\"" >/dev/null; done
fi

step "database tests on PostgreSQL ($pg_url)"
STOREHUB_TEST_DATABASE=postgres cargo test -p storehub-tests --locked

step "staff app in a real browser (Debian chromium + playwright-core)"
if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing Debian's chromium (once)"
        { apt-get install -y -qq chromium || { apt-get update -qq && apt-get install -y -qq chromium; }; } >/dev/null
    else
        echo "The browser tests need Debian's chromium at /usr/bin/chromium (apt-get install chromium)."
        exit 1
    fi
fi
command -v node >/dev/null 2>&1 || { echo "The browser tests need Node.js and npm (apt-get install nodejs npm)."; exit 1; }
(cd tests/browser && npm ci --no-audit --no-fund --silent)
cargo build -p hub --locked --quiet
(cd tests/browser && STOREHUB_BIN="$PWD/../../target/debug/storehub" node --test --test-concurrency=1)

step "all checks passed in $(( $(date +%s) - started ))s"
