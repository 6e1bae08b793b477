#!/usr/bin/env bash
# Installs what a fresh machine lacks to build and test quantvec: PostgreSQL 15 with its
# server headers, clang (for pgrx's bindings), sudo (to run Postgres as its own user),
# cargo-pgrx 0.18.1, and pgrx's configuration pointing at the system PostgreSQL.
# Safe to run again: each step is skipped when already done.
set -euo pipefail

missing=()
for pkg in postgresql-15 postgresql-server-dev-15 libclang-dev clang sudo; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! cargo pgrx --version 2>/dev/null | grep -q ' 0\.18\.1$'; then
    echo "setup: installing cargo-pgrx 0.18.1 (a few minutes)"
    cargo install cargo-pgrx --version 0.18.1 --locked --quiet
fi

if ! grep -qs 'pg15 = "/usr/bin/pg_config"' "${PGRX_HOME:-$HOME/.pgrx}/config.toml"; then
    cargo pgrx init --pg15 /usr/bin/pg_config >/dev/null
fi
