#!/usr/bin/env bash
# SQL-level tests with expected output, run by PostgreSQL's own pg_regress against a
# throwaway cluster (the extension must be installed: cargo pgrx install). Each
# tests/pg_regress/sql/NAME.sql runs in a fresh database with quantvec created; its
# output must equal tests/pg_regress/expected/NAME.out.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cluster.sh

work=/tmp/quantvec-regress
port=${REGRESS_PORT:-54329}
trap 'cluster_stop $work/cluster' EXIT
cluster_start "$work/cluster" "$port"
install -d -o postgres -g postgres "$work/out"
cp -r tests/pg_regress/sql tests/pg_regress/expected "$work/out/"
chown -R postgres:postgres "$work/out"

tests=$(cd tests/pg_regress/sql && ls *.sql | sed 's/\.sql$//')
cluster_psql "$work/cluster" -c "CREATE DATABASE quantvec_regress" -d postgres
cluster_psql "$work/cluster" -c "CREATE EXTENSION quantvec" -d quantvec_regress
status=0
as_postgres /usr/lib/postgresql/15/lib/pgxs/src/test/regress/pg_regress \
    --host="$work/cluster/socket" --port="$port" --user=postgres \
    --inputdir="$work/out" --outputdir="$work/out" \
    --use-existing --dbname=quantvec_regress $tests || status=$?
if [ $status -ne 0 ]; then
    cat "$work/out/regression.diffs" || true
fi
exit $status
