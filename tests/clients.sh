#!/usr/bin/env bash
# Real clients against a real server: Python with psycopg 3 (installed into a throwaway
# virtual environment) and Rust with the postgres crate (quantvec-client).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cluster.sh

work=/tmp/quantvec-clients
port=${CLIENTS_PORT:-54343}
trap 'cluster_stop $work' EXIT
cluster_start "$work" "$port"
cluster_psql "$work" -d postgres -c "CREATE EXTENSION quantvec"

echo "== Python, psycopg 3"
venv=/tmp/quantvec-venv
[ -x "$venv/bin/pytest" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install --quiet "psycopg[binary]>=3.1" pytest; }
QUANTVEC_DSN="host=$work/socket port=$port user=postgres dbname=postgres" \
    "$venv/bin/pytest" -q -p no:cacheprovider clients/python/test_psycopg.py

echo "== Rust, postgres crate"
QUANTVEC_TEST_SOCKET="$work/socket" QUANTVEC_TEST_PORT="$port" cargo test -q -p quantvec-client --test server
echo "clients: passed"
