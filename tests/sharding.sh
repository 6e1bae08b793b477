#!/usr/bin/env bash
# Sharding over several servers with postgres_fdw: a coordinator cluster holds a table
# partitioned by hash whose partitions are foreign tables on two shard clusters (all local,
# on Unix sockets). With quantvec in the servers' `extensions` option, the distance
# operator and ORDER BY are pushed down to each shard (EXPLAIN VERBOSE shows the remote
# SQL), and the global top-k equals a single-server search over the same rows.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cluster.sh

# The PyPI builds of PostgreSQL 16 and 17 ship without contrib; Debian's 15 and 18's have it.
if [ ! -f "$("$PG_CONFIG" --sharedir)/extension/postgres_fdw.control" ]; then
    echo "sharding: skipped: $("$PG_CONFIG" --version) at $PG_CONFIG has no postgres_fdw"
    exit 0
fi

work=/tmp/quantvec-sharding
base_port=${SHARDING_PORT:-54347}
trap 'for c in coordinator shard1 shard2; do cluster_stop $work/$c; done' EXIT
for i in 1 2; do
    cluster_start "$work/shard$i" $((base_port + i))
    cluster_psql "$work/shard$i" -d postgres -q <<'SQL'
CREATE EXTENSION quantvec;
CREATE TABLE items (id int PRIMARY KEY, e int8vec(16));
CREATE INDEX ON items USING quantvec (e int8vec_cosine_ops);
SQL
done
cluster_start "$work/coordinator" "$base_port"
coordinator() { cluster_psql "$work/coordinator" -d postgres -At "$@"; }

coordinator -q <<SQL
CREATE EXTENSION quantvec;
CREATE EXTENSION postgres_fdw;
CREATE TABLE items (id int, e int8vec(16)) PARTITION BY HASH (id);
CREATE TABLE single (id int PRIMARY KEY, e int8vec(16));
CREATE INDEX ON single USING quantvec (e int8vec_cosine_ops);
SQL
for i in 1 2; do
    coordinator -q <<SQL
CREATE SERVER shard$i FOREIGN DATA WRAPPER postgres_fdw OPTIONS (
    host '$work/shard$i/socket', port '$((base_port + i))', dbname 'postgres',
    extensions 'quantvec', async_capable 'true', fetch_size '100');
CREATE USER MAPPING FOR postgres SERVER shard$i OPTIONS (user 'postgres');
CREATE FOREIGN TABLE items_$i PARTITION OF items FOR VALUES WITH (MODULUS 2, REMAINDER $((i - 1)))
    SERVER shard$i OPTIONS (table_name 'items');
SQL
done
coordinator -q <<'SQL'
INSERT INTO single SELECT i, (SELECT array_agg(sin(i * 0.21 + d) + cos(i * d * 0.003))::real[] FROM generate_series(1, 16) d)
  FROM generate_series(1, 4000) i;
-- Rows go through the coordinator to their shards.
INSERT INTO items SELECT * FROM single;
SQL
for i in 1 2; do echo "shard$i holds $(cluster_psql "$work/shard$i" -d postgres -At -c "SELECT count(*) FROM items") rows"; done

query="SELECT id FROM items ORDER BY e <=> '(0.01,0)[10,20,-30,40,-50,60,70,-80,90,100,-110,120,-10,20,30,-40]' LIMIT 10"
plan=$(coordinator -c "EXPLAIN (VERBOSE, COSTS OFF) $query")
echo "$plan" | grep "Remote SQL" | head -2
echo "$plan" | grep -q "Remote SQL: .*ORDER BY (e OPERATOR(public.<=>)" || { echo "FAILED: ORDER BY <=> is not pushed down"; echo "$plan"; exit 1; }
# Exact settings on every shard (through the session's options) and on the single table.
for i in 1 2; do
    coordinator -q -c "ALTER SERVER shard$i OPTIONS (ADD options '-c quantvec.probes=100000 -c quantvec.rescore_factor=100000')"
done
sharded=$(coordinator -c "SELECT string_agg(id::text, ',') FROM ($query) s")
single=$(coordinator -c "SET quantvec.probes = 100000" -c "SET quantvec.rescore_factor = 100000" \
                     -c "SELECT string_agg(id::text, ',') FROM (${query/FROM items/FROM single}) s" | tail -1)
echo "sharded: $sharded"
echo "single:  $single"
[ -n "$sharded" ] && [ "$sharded" = "$single" ] || { echo "FAILED: sharded and single-server results differ"; exit 1; }
echo "sharding: passed"
