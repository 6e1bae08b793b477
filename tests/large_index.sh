#!/usr/bin/env bash
# Indexes larger than shared_buffers: with 16 MB of shared buffers, indexes 2 to 6 times that
# size (a narrow column and a wide one, whose blocks span pages) are built while their
# pages are evicted and read back mid-build, then inserted into, vacuumed, checkpointed,
# restarted cleanly and after kill -9 (recovery replaying a build), and streamed to a
# replica with the same small buffers. After each step the check passes and an index scan
# finds exactly the heap's rows; the replica answers as the primary does.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cluster.sh

work=/tmp/quantvec-large
primary_port=${LARGE_PORT:-54351}
replica_port=${LARGE_REPLICA_PORT:-54352}
trap 'cluster_stop $work/primary; cluster_stop $work/replica' EXIT
cluster_start "$work/primary" "$primary_port" "shared_buffers = 16MB" "wal_level = replica" "max_wal_senders = 4" \
    "hot_standby = on" "max_wal_size = 2GB" "wal_keep_size = 4GB"
primary() { cluster_psql "$work/primary" -d postgres -At "$@"; }
replica() { cluster_psql "$work/replica" -d postgres -At "$@"; }

# The replica exists before any data: tables and index builds reach it only through WAL.
cluster_start_replica "$work/primary" "$work/replica" "$replica_port"

primary <<'SQL'
CREATE EXTENSION quantvec;
CREATE TABLE narrow (id int PRIMARY KEY, e int8vec(768));
INSERT INTO narrow SELECT i, (SELECT array_agg(random() - 0.5 + i * 0 + sin(i + d) / 4)::real[] FROM generate_series(1, 768) d)
  FROM generate_series(1, 40000) i;
CREATE TABLE wide (id int PRIMARY KEY, e int8vec(3000));
CREATE TEMP TABLE base AS SELECT b, (SELECT array_agg(random() - 0.5 + b * 0 * d)::real[] FROM generate_series(1, 3000) d) v
  FROM generate_series(0, 1999) AS g(b);
INSERT INTO wide SELECT i, v FROM generate_series(1, 20000) i JOIN base ON b = i % 2000;
CREATE INDEX narrow_e ON narrow USING quantvec (e int8vec_cosine_ops);
CREATE INDEX wide_e ON wide USING quantvec (e int8vec_l2_ops) WITH (lists = 1);
SQL
for index in narrow_e wide_e; do
    size=$(primary -c "SELECT pg_relation_size('$index')")
    echo "$index: $((size / 1048576)) MB, $((size * 10 / 16777216 / 10)).$((size * 10 / 16777216 % 10))x shared_buffers"
    [ "$size" -ge $((2 * 16777216)) ] || { echo "FAILED: $index is smaller than twice shared_buffers"; exit 1; }
done

check_both() { # the step's name
    cluster_index_matches_heap "$work/primary" narrow narrow_e
    cluster_index_matches_heap "$work/primary" wide wide_e
    echo "$1: both indexes check clean and find exactly the heap's rows"
}

# What the first broken build failed on: a write right after CREATE INDEX, then a checkpoint.
primary -c "INSERT INTO wide VALUES (0, (SELECT e FROM wide LIMIT 1))" -c "CHECKPOINT"
check_both "after the build"

primary <<'SQL'
INSERT INTO narrow SELECT i, (SELECT array_agg(random() - 0.5 + i * 0 * d)::real[] FROM generate_series(1, 768) d) FROM generate_series(40001, 42000) i;
INSERT INTO wide SELECT 20000 + id, e FROM wide WHERE id BETWEEN 1 AND 600;
DELETE FROM narrow WHERE id % 7 = 0;
DELETE FROM wide WHERE id % 5 = 0;
VACUUM narrow;
VACUUM wide;
INSERT INTO narrow SELECT i, (SELECT array_agg(random() - 0.5 + i * 0 * d)::real[] FROM generate_series(1, 768) d) FROM generate_series(42001, 43000) i;
CHECKPOINT;
SQL
check_both "inserts, VACUUM, CHECKPOINT"

# The replica replays the builds and changes with 16 MB of buffers too.
results() {
    "$@" <<'SQL'
SET enable_seqscan = off;
SELECT string_agg(ids, ' | ' ORDER BY q) FROM (
  SELECT q, (SELECT string_agg(id::text, ',') FROM (SELECT id FROM narrow ORDER BY e <=> (SELECT e FROM narrow WHERE id >= q ORDER BY id LIMIT 1) LIMIT 10) s) ||
            ' / ' || (SELECT string_agg(id::text, ',') FROM (SELECT id FROM wide ORDER BY e <-> (SELECT e::real[] FROM wide WHERE id >= q ORDER BY id LIMIT 1) LIMIT 10) s) AS ids
    FROM generate_series(1, 19000, 1999) q) r;
SQL
}
compare_replica() {
    local on_primary on_replica
    cluster_wait_replay "$work/primary" "$work/replica"
    on_primary=$(results primary)
    on_replica=$(results replica)
    [ -n "$on_primary" ] && [ "$on_primary" = "$on_replica" ] || { echo "FAILED: the replica answers differently"; echo "primary: $on_primary"; echo "replica: $on_replica"; exit 1; }
    replica -c "SELECT * FROM quantvec_index_check('narrow_e')" >/dev/null
    replica -c "SELECT * FROM quantvec_index_check('wide_e')" >/dev/null
    echo "$1: the replica checks clean and answers $(echo "$on_primary" | tr '|' '\n' | wc -l) queries as the primary does"
}
compare_replica "streamed"

as_postgres "$PG_BIN/pg_ctl" -D "$work/primary/data" -m fast -w restart >/dev/null
check_both "clean restart"

# A rebuild and more inserts, none of them checkpointed, then kill -9: recovery replays the
# build's page images and the inserts' records.
primary -c "REINDEX INDEX narrow_e" -c "CREATE INDEX wide_e2 ON wide USING quantvec (e int8vec_l2_ops) WITH (lists = 3)" \
    -c "INSERT INTO narrow SELECT i, (SELECT array_agg(random() - 0.5 + i * 0 * d)::real[] FROM generate_series(1, 768) d) FROM generate_series(43001, 44000) i"
cluster_kill "$work/primary"
cluster_recover "$work/primary"
[ "$(primary -c "SELECT count(*) FROM narrow WHERE id > 43000")" = 1000 ] || { echo "FAILED: committed rows lost"; exit 1; }
check_both "kill -9 and crash recovery"
primary -c "DROP INDEX wide_e" -c "ALTER INDEX wide_e2 RENAME TO wide_e"
cluster_index_matches_heap "$work/primary" wide wide_e
primary -c "CHECKPOINT"
compare_replica "after the primary's crash"

# kill -9 in the middle of CREATE INDEX, REINDEX CONCURRENTLY and VACUUM: afterwards the
# table is intact and each index is valid and clean, or invalid and can be dropped.
killed_during() { # statement, query that is true once it is under way
    primary -c "$1" >/dev/null 2>&1 &
    local client=$! seen=f
    for _ in $(seq 1 400); do
        seen=$(primary -c "$2") && [ "$seen" = t ] && break
        sleep 0.05
    done
    cluster_kill "$work/primary"
    wait $client || true
    cluster_recover "$work/primary"
    [ "$seen" = t ] && echo "killed during: $1" || echo "killed after (it ended before it was seen): $1"
}
rows_before=$(primary -c "SELECT count(*) FROM narrow")
killed_during "CREATE INDEX narrow_e3 ON narrow USING quantvec (e int8vec_l2_ops)" "SELECT EXISTS (SELECT FROM pg_stat_progress_create_index)"
[ "$(primary -c "SELECT count(*) FROM pg_class WHERE relname = 'narrow_e3'")" = 0 ] || { echo "FAILED: a killed CREATE INDEX left an index"; exit 1; }
killed_during "REINDEX INDEX CONCURRENTLY narrow_e" "SELECT EXISTS (SELECT FROM pg_stat_progress_create_index WHERE phase LIKE 'building%')"
for invalid in $(primary -c "SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 'narrow'::regclass AND NOT indisvalid"); do
    primary -c "DROP INDEX $invalid"
    echo "dropped the invalid $invalid that the killed REINDEX CONCURRENTLY left"
done
primary -c "DELETE FROM narrow WHERE id % 3 = 0"
killed_during "VACUUM narrow" "SELECT EXISTS (SELECT FROM pg_stat_progress_vacuum WHERE phase = 'vacuuming indexes')"
[ "$(primary -c "SELECT count(*) FROM narrow")" -ge $((rows_before * 2 / 3 - 1)) ] || { echo "FAILED: rows lost"; exit 1; }
primary -c "VACUUM narrow"
check_both "after kill -9 during CREATE INDEX, REINDEX CONCURRENTLY and VACUUM"
compare_replica "after those crashes"
echo "indexes larger than shared_buffers: passed"
