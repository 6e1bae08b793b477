#!/usr/bin/env bash
# Concurrency: inserts, updates, deletes, vacuum and index queries from several sessions at
# once (pgbench, STRESS_SECONDS, default 45) end with no errors and consistent indexes,
# among them one of a wide column whose blocks span two pages each and one with a label
# column whose values change under filtered queries.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cluster.sh

work=/tmp/quantvec-stress
port=${STRESS_PORT:-54339}
seconds=${STRESS_SECONDS:-45}
trap 'cluster_stop $work' EXIT
cluster_start "$work" "$port" "max_connections = 30" "autovacuum_naptime = 1" "autovacuum_vacuum_threshold = 500"
sql() { cluster_psql "$work" -d postgres -At "$@"; }

sql <<'SQL'
CREATE EXTENSION quantvec;
CREATE TABLE items (id bigserial PRIMARY KEY, e int8vec(32), b bitvec(32), c int);
INSERT INTO items (e, b, c) SELECT v, bitvec_quantize(v), nullif(i % 11, 10)
  FROM (SELECT i, (SELECT array_agg(sin(i * d * 0.1) + random() / 5)::real[] FROM generate_series(1, 32) d) v FROM generate_series(1, 20000) i) s;
CREATE INDEX items_cos ON items USING quantvec (e int8vec_cosine_ops);
CREATE INDEX items_label ON items USING quantvec (e int8vec_l2_ops, c);
CREATE INDEX items_ham ON items USING quantvec (b bitvec_hamming_ops);
CREATE TABLE wide (id bigserial PRIMARY KEY, e int8vec(2048));
INSERT INTO wide (e) SELECT (SELECT array_agg(sin(i * d * 0.1) + random() / 5)::real[] FROM generate_series(1, 2048) d) FROM generate_series(1, 500) i;
CREATE INDEX wide_e ON wide USING quantvec (e int8vec_l2_ops) WITH (lists = 4);
SQL

cat >"$work/write.sql" <<'SQL'
\set id random(1, 40000)
BEGIN;
INSERT INTO items (e, b, c) SELECT v, bitvec_quantize(v), nullif(:id % 11, 10) FROM (SELECT (SELECT array_agg(random() - 0.5)::real[] FROM generate_series(1, 32)) v) s;
DELETE FROM items WHERE id = :id;
UPDATE items SET c = nullif((c + 1) % 11, 10) WHERE id = :id + 2;
UPDATE items SET e = (SELECT array_agg(random() - 0.5)::real[] FROM generate_series(1, 32)) WHERE id = :id + 1;
INSERT INTO wide (e) SELECT (SELECT array_agg(random() - 0.5)::real[] FROM generate_series(1, 2048));
DELETE FROM wide WHERE id = :id / 10;
END;
SQL
cat >"$work/read.sql" <<'SQL'
SELECT count(*) FROM (SELECT id FROM items ORDER BY e <=> (SELECT array_agg(random() - 0.5)::real[] FROM generate_series(1, 32)) LIMIT 10) s;
SELECT count(*) FROM (SELECT id FROM items WHERE id % 7 = 0 ORDER BY b <~> (SELECT b FROM items ORDER BY id DESC LIMIT 1) LIMIT 10) s;
\set c random(0, 10)
SELECT count(*) FROM (SELECT id FROM items WHERE c = :c ORDER BY e <-> (SELECT array_agg(random() - 0.5)::real[] FROM generate_series(1, 32)) LIMIT 10) s;
SELECT count(*) FROM (SELECT id FROM wide ORDER BY e <-> (SELECT array_agg(random() - 0.5)::real[] FROM generate_series(1, 2048)) LIMIT 10) s;
SQL
cat >"$work/vacuum.sql" <<'SQL'
VACUUM items;
VACUUM wide;
SELECT pg_sleep(1);
SQL
chown postgres "$work"/*.sql
bench() {
    as_postgres "$PG_BIN/pgbench" -n -h "$work/socket" -p "$port" -U postgres -T "$seconds" "$@" postgres
}
sql -c "ALTER DATABASE postgres SET enable_seqscan = off"
bench -c 3 -f "$work/write.sql" >"$work/write.log" 2>&1 &
writers=$!
bench -c 3 -f "$work/read.sql" >"$work/read.log" 2>&1 &
readers=$!
bench -c 1 -f "$work/vacuum.sql" >"$work/vacuum.log" 2>&1 &
vacuum=$!
status=0
for job in $writers $readers $vacuum; do wait $job || status=1; done
for log in write read vacuum; do
    echo "$log: $(grep -E '^number of (transactions actually processed|failed transactions)' "$work/$log.log" | tr '\n' ' ')"
done
if [ $status -ne 0 ] || grep -q -E "ERROR|FATAL|aborted" "$work"/*.log; then
    grep -h -E "ERROR|FATAL|aborted" "$work"/*.log | head
    echo "FAILED: errors under concurrent load"
    exit 1
fi
grep -q -E "PANIC|TRAP|terminated by signal" "$work/data/server.log" && { echo "FAILED: the server crashed"; exit 1; }
sql -c "SELECT * FROM quantvec_index_check('items_cos')"
sql -c "SELECT * FROM quantvec_index_check('items_ham')"
sql -c "SELECT * FROM quantvec_index_check('items_label')"
sql -c "SELECT * FROM quantvec_index_check('wide_e')"
sql -c "VACUUM items" -c "VACUUM wide"
sql -c "SELECT * FROM quantvec_index_check('items_cos')"
sql -c "SELECT * FROM quantvec_index_check('items_label')"
sql -c "SELECT * FROM quantvec_index_check('wide_e')"
echo "concurrency: passed"
