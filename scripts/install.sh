#!/usr/bin/env bash
# Builds quantvec in release mode and installs it into the PostgreSQL whose pg_config is
# PG_CONFIG (default: the system's PostgreSQL 15); output shown only on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
if ! cargo pgrx install --release --pg-config "${PG_CONFIG:-/usr/bin/pg_config}" >"$log" 2>&1; then
    cat "$log"
    rm -f "$log"
    exit 1
fi
rm -f "$log"
