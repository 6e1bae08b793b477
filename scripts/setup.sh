#!/usr/bin/env bash
# Installs what a fresh machine lacks to build and test quantvec: PostgreSQL 15 with its
# server headers (Debian), clang (for pgrx's bindings), sudo (to run Postgres as its own
# user), cargo-pgrx 0.18.1, the other PostgreSQL versions named as arguments (16, 17, 18:
# see scripts/postgres.sh), and pgrx's configuration pointing at every installed version.
# Safe to run again: each step is skipped when already done.
#
#   bash scripts/setup.sh            PostgreSQL 15 only
#   bash scripts/setup.sh 16 17 18   and those versions
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh

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

for version in "$@"; do
    postgres_install "$version"
done

# pgrx's configuration lists every installed version (init rewrites it whole).
init=()
stale=false
for version in $SUPPORTED_POSTGRES; do
    config=$(pg_config_of "$version" 2>/dev/null) || continue
    init+=("--pg$version" "$config")
    grep -qs "^pg$version = \"$config\"" "${PGRX_HOME:-$HOME/.pgrx}/config.toml" || stale=true
done
if $stale; then
    cargo pgrx init "${init[@]}" >/dev/null
fi
