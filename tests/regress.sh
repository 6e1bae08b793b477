#!/usr/bin/env bash
# SQL-level tests with expected output, run by PostgreSQL's own pg_regress against a
# throwaway cluster (the extension must be installed: cargo pgrx install). The files
# tests/pg_regress/sql/NAME.sql run in order in one database where quantvec is created;
# each one's output must equal tests/pg_regress/expected/NAME.out.
#
# Usage: bash tests/regress.sh [NAME...]: with names (e.g. `bash tests/regress.sh index`),
# only those files run, in the order given; without, all of them.
#
# The suite runs twice: with the best kernels this CPU has, and with the server forced to
# the scalar ones (QUANTVEC_SIMD=scalar), as on a CPU without AVX2; both must give the
# same output.
#
# After changing a test, REGRESS_ACCEPT=1 copies the new outputs over the expected ones:
# read the diff (git diff tests/pg_regress/expected) before committing it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cluster.sh

work=${REGRESS_WORK:-/tmp/quantvec-regress}
port=${REGRESS_PORT:-54329}
all=$(cd tests/pg_regress/sql && ls *.sql | sed 's/\.sql$//')
tests=${*:-$all}
for test in $tests; do
    if [ ! -f "tests/pg_regress/sql/$test.sql" ]; then
        echo "no test $test in tests/pg_regress/sql; the tests are:" $all
        exit 2
    fi
done
trap 'cluster_stop $work/cluster' EXIT

run_suite() {
    local kernels=$1
    CLUSTER_ENV="QUANTVEC_SIMD=$kernels" cluster_start "$work/cluster" "$port"
    rm -rf "$work/out" && install -d -o postgres -g postgres "$work/out"
    cp -r tests/pg_regress/sql tests/pg_regress/expected "$work/out/"
    for test in $tests; do touch "$work/out/expected/$test.out"; done
    chown -R postgres:postgres "$work/out"
    cluster_psql "$work/cluster" -c "CREATE DATABASE quantvec_regress" -d postgres
    cluster_psql "$work/cluster" -c "CREATE EXTENSION quantvec" -d quantvec_regress
    local active
    active=$(cluster_psql "$work/cluster" -At -c "SELECT quantvec_simd()" -d quantvec_regress)
    echo "== pg_regress with QUANTVEC_SIMD=$kernels: the server uses the $active kernels"
    if [ "$kernels" = scalar ] && [ "$active" != scalar ]; then
        echo "QUANTVEC_SIMD=scalar did not select the scalar kernels"
        exit 1
    fi
    local status=0
    as_postgres "$(dirname "$("$PG_CONFIG" --pgxs)")/../test/regress/pg_regress" \
        --bindir="$PG_BIN" --host="$work/cluster/socket" --port="$port" --user=postgres \
        --inputdir="$work/out" --outputdir="$work/out" \
        --use-existing --dbname=quantvec_regress $tests || status=$?
    cluster_stop "$work/cluster"
    if [ "${REGRESS_ACCEPT:-0}" = 1 ]; then
        for test in $tests; do cp "$work/out/results/$test.out" tests/pg_regress/expected/; done
        echo "accepted the outputs as expected; review them with git diff"
        exit 0
    fi
    if [ $status -ne 0 ]; then
        cat "$work/out/regression.diffs" || true
        exit $status
    fi
}

run_suite auto
run_suite scalar
