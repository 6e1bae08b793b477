#!/usr/bin/env bash
# Long work stops at statement_timeout: k-means inside one iteration of a build (the build's
# threads never call PostgreSQL; the leader checks between slices of their work), the
# quality report (quadratic in its sample). Each statement, given a
# timeout far shorter than its work, must stop within the timeout plus a margin for these
# noisy 2-core machines; refusing an index on a column too wide to index is immediate.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cluster.sh

work=/tmp/quantvec-cancel
port=${CANCEL_PORT:-54355}
trap 'cluster_stop $work' EXIT
cluster_start "$work" "$port"
sql() { cluster_psql "$work" -d postgres -At "$@"; }

sql <<'SQL'
CREATE EXTENSION quantvec;
CREATE TEMP TABLE base AS SELECT b, (SELECT array_agg(random() - 0.5 + b * 0 * d)::real[] FROM generate_series(1, 256) d) v
  FROM generate_series(0, 1999) AS g(b);
CREATE TABLE items (id int, e int8vec(256), f real[]);
INSERT INTO items SELECT i, v, v FROM generate_series(1, 100000) i JOIN base ON b = i % 2000;
CREATE TABLE widest (v bitvec(64000));
SQL

# Runs $2 with statement_timeout = $1 ms; fails unless it was canceled by the timeout
# within the timeout plus 1.5 s.
stops_in_time() {
    local timeout=$1 statement=$2 start elapsed
    start=$(date +%s%N)
    if sql -c "SET statement_timeout = $timeout" -c "$statement" >/dev/null 2>"$work/error.log"; then
        echo "FAILED: finished within $timeout ms; give it more work: $statement"; exit 1
    fi
    elapsed=$((($(date +%s%N) - start) / 1000000))
    grep -q "statement timeout" "$work/error.log" || { cat "$work/error.log"; echo "FAILED: $statement"; exit 1; }
    echo "stopped after $elapsed ms (timeout $timeout ms): $statement"
    [ "$elapsed" -le $((timeout + 1500)) ] || { echo "FAILED: it ran on past its timeout"; exit 1; }
}
stops_in_time 1000 "SET maintenance_work_mem = '512MB'; SET max_parallel_maintenance_workers = 1; CREATE INDEX ON items USING quantvec (e) WITH (lists = 2000)"
stops_in_time 1000 "SELECT count(*) FROM quantvec_quality_report('items', 'f', 60000, 20000)"
stops_in_time 300 "SET maintenance_work_mem = '512MB'; CREATE INDEX ON items USING quantvec (e) WITH (lists = 1000)"

# Refused at once (the widest width that fits is found by bisection, not one width at a time).
if sql -c "SET statement_timeout = 1000" -c "CREATE INDEX ON widest USING quantvec (v)" 2>"$work/error.log"; then
    echo "FAILED: a bitvec(64000) column was indexed"; exit 1
fi
grep -q "at most .* dimensions" "$work/error.log" || { cat "$work/error.log"; echo "FAILED: not refused for its width"; exit 1; }
echo "refused within the timeout: $(grep ERROR "$work/error.log")"
echo "cancellation: passed"
