#!/usr/bin/env bash
# Replication: a primary and a streaming replica (both local clusters) return identical
# index scan results after builds, inserts, deletes, vacuum and REINDEX on the primary,
# because every index page change is WAL-logged (for a wide column too, whose blocks span
# pages and are written in multi-page WAL records, and for an index with a label column).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cluster.sh

work=/tmp/quantvec-replica
primary_port=${PRIMARY_PORT:-54337}
replica_port=${REPLICA_PORT:-54338}
trap 'cluster_stop $work/primary; cluster_stop $work/replica' EXIT
cluster_start "$work/primary" "$primary_port" "wal_level = replica" "max_wal_senders = 4" "hot_standby = on"
primary() { cluster_psql "$work/primary" -d postgres -At "$@"; }
replica() { cluster_psql "$work/replica" -d postgres -At "$@"; }

primary <<'SQL'
CREATE EXTENSION quantvec;
CREATE TABLE items (id int PRIMARY KEY, e int8vec(24), b bitvec(24));
INSERT INTO items SELECT i, v, bitvec_quantize(v)
  FROM (SELECT i, (SELECT array_agg(sin(i * 0.7 + d) + cos(i * d * 0.01))::real[] FROM generate_series(1, 24) d) v
          FROM generate_series(1, 6000) i) s;
CREATE INDEX items_cos ON items USING quantvec (e int8vec_cosine_ops);
SQL

# The replica: a base backup of the primary, streaming from it.
cluster_start_replica "$work/primary" "$work/replica" "$replica_port"
[ "$(replica -c "SELECT pg_is_in_recovery()")" = t ] || { echo "FAILED: the replica is not in recovery"; exit 1; }

# Changes after the backup reach the replica only through WAL.
primary <<'SQL'
INSERT INTO items SELECT i, v, bitvec_quantize(v)
  FROM (SELECT i, (SELECT array_agg(cos(i * 0.3 + d))::real[] FROM generate_series(1, 24) d) v
          FROM generate_series(6001, 9000) i) s;
DELETE FROM items WHERE id % 5 = 0;
VACUUM items;
CREATE INDEX items_l2 ON items USING quantvec (e int8vec_l2_ops);
CREATE INDEX items_ham ON items USING quantvec (b bitvec_hamming_ops);
CREATE INDEX items_label ON items USING quantvec (e int8vec_l2_ops, (id % 7));
INSERT INTO items SELECT i, v, bitvec_quantize(v)
  FROM (SELECT i, (SELECT array_agg(sin(i * 0.2 + d))::real[] FROM generate_series(1, 24) d) v
          FROM generate_series(9001, 9500) i) s;
DELETE FROM items WHERE id % 7 = 3 AND id % 2 = 0;
VACUUM items;
REINDEX INDEX items_cos;
UPDATE items SET e = '{1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1}' WHERE id BETWEEN 10 AND 30;
CREATE TABLE wide (id int PRIMARY KEY, e int8vec(3072));
INSERT INTO wide SELECT i, (SELECT array_agg(sin(i * 0.7 + d) + cos(i * d * 0.01))::real[] FROM generate_series(1, 3072) d) FROM generate_series(1, 200) i;
CREATE INDEX wide_e ON wide USING quantvec (e int8vec_cosine_ops) WITH (lists = 3);
INSERT INTO wide SELECT i, (SELECT array_agg(cos(i * 0.3 + d))::real[] FROM generate_series(1, 3072) d) FROM generate_series(201, 400) i;
DELETE FROM wide WHERE id % 4 = 0;
VACUUM wide;
INSERT INTO wide SELECT i, (SELECT array_agg(sin(i * 0.1 + d))::real[] FROM generate_series(1, 3072) d) FROM generate_series(401, 450) i;
SQL
cluster_wait_replay "$work/primary" "$work/replica"

results() {
    "$@" <<'SQL'
SET enable_seqscan = off;
SELECT string_agg(ids, ' | ' ORDER BY q) FROM (
  SELECT q, (SELECT string_agg(id::text, ',') FROM (SELECT id FROM items ORDER BY e <=> (SELECT e FROM items WHERE id = q) LIMIT 10) s) ||
            ' / ' || (SELECT string_agg(id::text, ',') FROM (SELECT id FROM items ORDER BY e <-> (SELECT e::real[] FROM items WHERE id = q) LIMIT 10) s) ||
            ' / ' || (SELECT string_agg(d::text, ',') FROM (SELECT b <~> (SELECT b FROM items WHERE id = q) AS d FROM items ORDER BY b <~> (SELECT b FROM items WHERE id = q) LIMIT 10) s) ||
            ' / ' || (SELECT string_agg(id::text, ',') FROM (SELECT id FROM items WHERE id % 7 = q % 7 ORDER BY e <-> (SELECT e::real[] FROM items WHERE id = q) LIMIT 10) s) ||
            ' / ' || (SELECT string_agg(id::text, ',') FROM (SELECT id FROM wide ORDER BY e <=> (SELECT e FROM wide WHERE id >= q % 400 + 1 ORDER BY id LIMIT 1) LIMIT 10) s) AS ids
    FROM generate_series(1, 8999, 499) q WHERE q % 5 <> 0) r;
SQL
}
on_primary=$(results primary)
on_replica=$(results replica)
[ -n "$on_primary" ] && [ "$on_primary" = "$on_replica" ] || { echo "FAILED: the replica answers differently"; echo "primary: $on_primary"; echo "replica: $on_replica"; exit 1; }
plan=$(replica -c "SET enable_seqscan = off" -c "EXPLAIN (COSTS OFF) SELECT id FROM items WHERE id % 7 = 3 ORDER BY e <-> '{1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24}'::real[] LIMIT 10")
echo "$plan" | grep -q "Index Scan using items_label" || { echo "FAILED: the filtered query does not use the label index:"; echo "$plan"; exit 1; }
echo "primary and replica return identical results for $(echo "$on_primary" | tr '|' '\n' | wc -l) queries on five indexes"
replica -c "SELECT * FROM quantvec_index_check('items_cos')"
replica -c "SELECT * FROM quantvec_index_check('items_label')"
replica -c "SELECT * FROM quantvec_index_check('wide_e')"
replica -c "SELECT * FROM quantvec_index_check('items_ham')"
echo "replication: passed"
