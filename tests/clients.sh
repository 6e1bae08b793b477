#!/usr/bin/env bash
# Real clients against a real server: Python with psycopg 3, SQLAlchemy and Django (installed
# into a throwaway virtual environment), Node with pg (installed into a throwaway directory)
# and Rust with the postgres crate (quantvec-client).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cluster.sh

work=/tmp/quantvec-clients
port=${CLIENTS_PORT:-54343}
trap 'cluster_stop $work' EXIT
cluster_start "$work" "$port"
cluster_psql "$work" -d postgres -c "CREATE EXTENSION quantvec"

venv=/tmp/quantvec-venv
[ -x "$venv/bin/pytest" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install --quiet "psycopg[binary]>=3.1" pytest; }
"$venv/bin/python" -c "import sqlalchemy, django" 2>/dev/null ||
    "$venv/bin/pip" install --quiet "SQLAlchemy>=2.0" "Django>=4.2"
export QUANTVEC_DSN="host=$work/socket port=$port user=postgres dbname=postgres"
echo "== Python, psycopg 3"
"$venv/bin/pytest" -q -p no:cacheprovider clients/python/test_psycopg.py
echo "== Python, SQLAlchemy"
"$venv/bin/pytest" -q -p no:cacheprovider clients/python/test_sqlalchemy.py
echo "== Python, Django"
"$venv/bin/pytest" -q -p no:cacheprovider clients/python/test_django.py

# pg is installed outside the checkout, so nothing is downloaded into it.
echo "== Node, pg"
node_deps=/tmp/quantvec-node
[ -d "$node_deps/node_modules/pg" ] || npm install --prefix "$node_deps" --no-audit --no-fund --silent pg
PGHOST="$work/socket" PGPORT="$port" PGUSER=postgres PGDATABASE=postgres NODE_PATH="$node_deps/node_modules" \
    node --test --test-reporter=spec clients/node/test.js

echo "== Rust, postgres crate"
QUANTVEC_TEST_SOCKET="$work/socket" QUANTVEC_TEST_PORT="$port" cargo test -q -p quantvec-client --test server
echo "clients: passed"
