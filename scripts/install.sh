#!/usr/bin/env bash
# Builds quantvec in release mode and installs it into the PostgreSQL whose pg_config is
# PG_CONFIG (default: the system's PostgreSQL 15), with the companion extension
# quantvec_pgvector (casts to and from pgvector's types; cargo-pgrx installs only
# quantvec's own files); output shown only on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
pg_config=${PG_CONFIG:-/usr/bin/pg_config}
log=$(mktemp)
if ! cargo pgrx install --release --pg-config "$pg_config" >"$log" 2>&1; then
    cat "$log"
    rm -f "$log"
    exit 1
fi
rm -f "$log"
cp sql/quantvec_pgvector.control sql/quantvec_pgvector--*.sql "$("$pg_config" --sharedir)/extension/"
