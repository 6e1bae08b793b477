#!/usr/bin/env bash
# Crash safety: kill -9 the postmaster (and its backends) in the middle of an insert load,
# restart, and check that the index holds exactly the committed rows: the check function
# passes and an index scan finds the same rows as a sequential scan, for an index of a
# narrow column and one of a wide column (blocks spanning pages, written in multi-page WAL
# records), each also with a label column (the labels and a filtered scan checked too).
# Unlogged tables come back empty with a working index.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cluster.sh

work=/tmp/quantvec-crash
port=${CRASH_PORT:-54335}
trap 'cluster_stop $work' EXIT
cluster_start "$work" "$port" "fsync = on" "max_connections = 20"
sql() { cluster_psql "$work" -d postgres -At "$@"; }

sql <<'SQL'
CREATE EXTENSION quantvec;
CREATE TABLE items (id bigserial PRIMARY KEY, e int8vec(32), c int);
CREATE UNLOGGED TABLE scratch (id bigserial PRIMARY KEY, e int8vec(32));
CREATE TABLE wide (id bigserial PRIMARY KEY, e int8vec(3072), c int);
INSERT INTO items (e, c) SELECT (SELECT array_agg(sin(i * d) + random() / 10)::real[] FROM generate_series(1, 32) d), nullif(i % 7, 6) FROM generate_series(1, 5000) i;
INSERT INTO scratch (e) SELECT e FROM items;
CREATE INDEX items_e ON items USING quantvec (e int8vec_cosine_ops);
CREATE INDEX items_e_c ON items USING quantvec (e int8vec_cosine_ops, c);
CREATE INDEX scratch_e ON scratch USING quantvec (e int8vec_l2_ops);
INSERT INTO wide (e, c) SELECT (SELECT array_agg(sin(i * d) + random() / 10)::real[] FROM generate_series(1, 3072) d), i % 3 FROM generate_series(1, 300) i;
CREATE INDEX wide_e ON wide USING quantvec (e int8vec_cosine_ops) WITH (lists = 4);
CREATE INDEX wide_e_c ON wide USING quantvec (e int8vec_cosine_ops, c) WITH (lists = 4);
SQL

cat >"$work/insert.sql" <<'SQL'
INSERT INTO items (e, c) SELECT (SELECT array_agg(random() - 0.5)::real[] FROM generate_series(1, 32)), nullif((random() * 6)::int, 6) FROM generate_series(1, 20);
INSERT INTO scratch (e) SELECT (SELECT array_agg(random() - 0.5)::real[] FROM generate_series(1, 32));
INSERT INTO wide (e, c) SELECT (SELECT array_agg(random() - 0.5)::real[] FROM generate_series(1, 3072)), (random() * 2)::int;
SQL
chown postgres "$work/insert.sql"
as_postgres "$PG_BIN/pgbench" -n -h "$work/socket" -p "$port" -U postgres -c 4 -T 30 -f "$work/insert.sql" postgres >"$work/pgbench.log" 2>&1 &
load=$!
sleep 4
before=$(sql -c "SELECT count(*) FROM items")
echo "killing the postmaster and its backends mid-load ($before rows committed so far)"
cluster_kill "$work"
wait $load || true
cluster_recover "$work"
echo "restarted with crash recovery"

after=$(sql -c "SELECT count(*) FROM items")
echo "rows after recovery: $after"
[ "$after" -ge "$before" ] || { echo "FAILED: committed rows were lost"; exit 1; }
cluster_index_matches_heap "$work" items items_e
cluster_index_matches_heap "$work" items items_e_c "c = 3"
cluster_index_matches_heap "$work" wide wide_e
cluster_index_matches_heap "$work" wide wide_e_c "c = 1"
echo "wide rows after recovery: $(sql -c "SELECT count(*) FROM wide")"
echo "an index scan finds exactly the rows a sequential scan finds, through label filters too"

# The unlogged table was reset to its init fork: empty, and its index works.
[ "$(sql -c "SELECT count(*) FROM scratch")" = 0 ] || { echo "FAILED: unlogged table not reset"; exit 1; }
sql -c "INSERT INTO scratch (e) SELECT e FROM items LIMIT 100"
sql -c "SELECT * FROM quantvec_index_check('scratch_e')"
[ "$(sql -c "SET enable_seqscan = off" -c "SELECT count(*) FROM (SELECT id FROM scratch ORDER BY e <-> (SELECT e FROM items LIMIT 1) LIMIT 5) s")" = 5 ] || { echo "FAILED: unlogged index"; exit 1; }

sql -c "VACUUM items" -c "DELETE FROM wide WHERE id % 2 = 0" -c "VACUUM wide"
sql -c "SELECT * FROM quantvec_index_check('items_e')"
cluster_index_matches_heap "$work" items items_e_c "c = 3"
cluster_index_matches_heap "$work" wide wide_e
cluster_index_matches_heap "$work" wide wide_e_c "c = 1"
echo "crash recovery: passed"
