#!/usr/bin/env bash
# quantvec on Citus 14 (built from ../shared/vendor into the PostgreSQL of PG_CONFIG, 16-18;
# default 17): a coordinator and two workers on localhost. CREATE EXTENSION quantvec on
# the coordinator reaches the workers; a table with an int8vec column and a quantvec index
# is distributed by tenant (create_distributed_table), filled through the coordinator
# (INSERT ... SELECT and COPY), and a top-10 ORDER BY e <=> $1::real[] LIMIT 10 through the
# coordinator returns the rows one local table returns, with ORDER BY and LIMIT pushed to
# the shards, where the quantvec index runs (EXPLAIN shows both); so does a join with a
# colocated table of tenants, filtered by tenant, and a filter on an index's label column,
# which each shard's label index applies.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh
PG_CONFIG=${PG_CONFIG:-$(pg_config_of 17)}
export PG_CONFIG
source scripts/cluster.sh
version=$("$PG_CONFIG" --version | sed 's/^PostgreSQL \([0-9]*\).*/\1/')
if [ "$version" -lt 16 ]; then
    # (13.2.2, the last Citus for 15, does not compile against 15.20's headers.)
    echo "citus: skipped: Citus 14 needs PostgreSQL 16 or later (this is $version)"
    exit 0
fi
citus_install "$version"

work=/tmp/quantvec-citus
base_port=${CITUS_PORT:-54381}
nodes="coordinator worker1 worker2"
trap 'for node in $nodes; do cluster_stop $work/$node; done' EXIT
fail() {
    echo "FAILED: $*" >&2
    exit 1
}
port=$base_port
for node in $nodes; do
    # Citus's nodes reach each other over TCP on localhost (trust, as initdb set it up).
    cluster_start "$work/$node" "$port" "listen_addresses = 'localhost'" "shared_preload_libraries = 'citus'" \
        "max_prepared_transactions = 20"
    cluster_psql "$work/$node" -d postgres -q -c "CREATE EXTENSION citus"
    port=$((port + 1))
done
sql() { cluster_psql "$work/coordinator" -d postgres -At "$@"; }
sql -q -c "SELECT citus_set_coordinator_host('localhost', $base_port)" \
    -c "SELECT citus_add_node('localhost', $((base_port + 1)))" -c "SELECT citus_add_node('localhost', $((base_port + 2)))" >/dev/null
[ "$(sql -c "SELECT count(*) FROM citus_get_active_worker_nodes()")" = 2 ] || fail "two workers"

sql -q -c "CREATE EXTENSION quantvec"
for worker in worker1 worker2; do
    [ "$(cluster_psql "$work/$worker" -d postgres -At -c "SELECT extversion FROM pg_extension WHERE extname = 'quantvec'")" = "$(sql -c "SELECT extversion FROM pg_extension WHERE extname = 'quantvec'")" ] ||
        fail "CREATE EXTENSION quantvec did not reach $worker"
done
echo "Citus $(sql -c "SELECT extversion FROM pg_extension WHERE extname = 'citus'") on PostgreSQL $version: a coordinator and 2 workers; CREATE EXTENSION quantvec reached both workers"

sql -q >/dev/null <<'SQL'
CREATE TABLE items (tenant int, id int, e int8vec(64), PRIMARY KEY (tenant, id));
CREATE TABLE tenants (tenant int PRIMARY KEY, plan text);
SELECT create_distributed_table('tenants', 'tenant');
SELECT create_distributed_table('items', 'tenant', colocate_with => 'tenants');
CREATE INDEX items_e ON items USING quantvec (e int8vec_cosine_ops) WITH (lists = 8);
CREATE INDEX items_label ON items USING quantvec (e int8vec_cosine_ops, (id % 5)) WITH (lists = 8);
CREATE TABLE local_items (tenant int, id int, e int8vec(64), PRIMARY KEY (tenant, id));
CREATE TABLE local_tenants (tenant int PRIMARY KEY, plan text);
CREATE INDEX local_items_e ON local_items USING quantvec (e int8vec_cosine_ops) WITH (lists = 8);
CREATE INDEX local_items_label ON local_items USING quantvec (e int8vec_cosine_ops, (id % 5)) WITH (lists = 8);
INSERT INTO tenants SELECT t, CASE WHEN t % 3 = 0 THEN 'pro' ELSE 'free' END FROM generate_series(0, 19) t;
INSERT INTO local_tenants SELECT * FROM tenants;
-- Through the coordinator: INSERT ... SELECT, which Citus routes row by row to the shards.
-- The select list is cast to int8vec(64) itself: Citus 14.0.1 casts an INSERT ... SELECT
-- it evaluates on the coordinator with a one-argument call of the cast function, which
-- fails for casts that take the type modifier ("unexpected null value in cached tuple for
-- catalog pg_proc column proargdefaults"; CastExpr in its insert_select_planner.c).
INSERT INTO items
SELECT i % 20, i, (SELECT array_agg(sin(i * 0.61 + d * 1.7) + cos(i * 0.017 * d))::real[] FROM generate_series(1, 64) d)::int8vec(64)
  FROM generate_series(1, 2999) i;
SQL
# A real[] in VALUES is cast on assignment, as on one server.
sql -q -c "INSERT INTO items VALUES (0, 3000, '{$(python3 -c "import math; print(','.join(str(math.sin(3000 * 0.61 + d * 1.7) + math.cos(3000 * 0.017 * d)) for d in range(1, 65)))")}')"
# And COPY, which Citus splits between the shards.
sql -c "COPY (SELECT i % 20, i, (SELECT array_agg(cos(i * 0.43 + d))::real[] FROM generate_series(1, 64) d)::int8vec(64) FROM generate_series(3001, 4500) i) TO STDOUT" >"$work/rows.txt"
sql -c "COPY items FROM STDIN" <"$work/rows.txt"
sql -q -c "INSERT INTO local_items SELECT * FROM items" -c "ANALYZE items, local_items"
[ "$(sql -c "SELECT count(*) FROM items")" = 4500 ] || fail "rows through the coordinator"
shards=$(sql -c "SELECT count(DISTINCT nodeport) FROM citus_shards WHERE table_name = 'items'::regclass")
[ "$shards" = 2 ] || fail "the items shards are on $shards nodes, not 2"
echo "4,500 rows distributed by tenant over $(sql -c "SELECT count(*) FROM citus_shards WHERE table_name = 'items'::regclass") shards on both workers (INSERT ... SELECT and COPY through the coordinator)"

# The shard indexes exist and are sound on each worker (Citus hides shards from pg_class
# unless asked).
for worker in worker1 worker2; do
    checked=$(cluster_psql "$work/$worker" -d postgres -At -c "SET citus.override_table_visibility = off" -c \
        "SELECT count(*) FROM pg_class c, quantvec_index_check(c.oid) WHERE c.relname ~ '^items_(e|label)_' AND c.relkind = 'i'")
    [ "$checked" -gt 1 ] || fail "no quantvec shard indexes on $worker"
done

literal="'{$(seq -s, 1 64)}'::real[]"
# A shard of a few hundred rows is ranked faster exactly than through an index, and the
# planner knows it; sequential scans are turned off on the shards for this plan (Citus
# passes a SET LOCAL on to them), to show that their quantvec indexes answer.
plan=$(sql -c "SET citus.explain_all_tasks = on" -c "SET citus.propagate_set_commands = 'local'" -c "BEGIN" \
    -c "SET LOCAL enable_seqscan = off" -c "EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM items ORDER BY e <=> $literal LIMIT 10" -c "COMMIT")
grep -q "Custom Scan (Citus Adaptive)" <<<"$plan" || fail "not a Citus plan: $plan"
grep -Eq "Query: SELECT .* ORDER BY .* LIMIT" <<<"$plan" || fail "ORDER BY and LIMIT not pushed to the shards: $plan"
# (Either quantvec index of the shard: without a label condition they cost the same.)
grep -Eq "Index Scan using items_(e|label)_" <<<"$plan" || fail "the shards do not use their quantvec indexes: $plan"
echo "EXPLAIN: the coordinator sends ORDER BY ... LIMIT 10 to each shard, which answers with its quantvec index:"
grep -m1 "Query: SELECT" <<<"$plan" | cut -c1-160
grep -E -m1 "Index Scan using items_(e|label)_" <<<"$plan"

# Every list probed and every candidate rescored (set on each node, as Citus runs the shard
# queries in sessions of its own): exact int8 answers, so the distributed top 10 must be
# the local one. (Rescoring every row, the index costs more than an exact ranking, and the
# planner knows it: sequential scans are turned off to have the indexes answer.)
for node in $nodes; do
    cluster_psql "$work/$node" -d postgres -q -c "ALTER SYSTEM SET quantvec.probes = 1000000" \
        -c "ALTER SYSTEM SET quantvec.rescore_factor = 1000000" -c "ALTER SYSTEM SET enable_seqscan = off" \
        -c "SELECT pg_reload_conf()" >/dev/null
done
plan=$(sql -c "SET citus.explain_all_tasks = on" -c "EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY e <=> $literal LIMIT 10")
tasks=$(grep -c -- "->  Task" <<<"$plan")
[ "$tasks" -gt 1 ] && [ "$(grep -E -c "Index Scan using items_(e|label)_" <<<"$plan")" = "$tasks" ] || fail "not every shard uses its quantvec index: $plan"
# Set in this session as well, so that the plan does not depend on when the coordinator's
# postmaster applied ALTER SYSTEM (a failure prints the plan).
plan=$(sql -c "SET quantvec.probes = 1000000" -c "SET quantvec.rescore_factor = 1000000" -c "SET enable_seqscan = off" \
    -c "EXPLAIN SELECT id FROM local_items ORDER BY e <=> $literal LIMIT 10")
grep -Eq "Index Scan using local_items_(e|label)" <<<"$plan" || fail "the local table does not use its quantvec index: $plan"
queries=$(sql -c "SELECT e::real[] FROM local_items WHERE id % 450 = 7 ORDER BY id")
answers() { # TABLE, then a JOIN and WHERE clause
    local q
    while read -r q; do
        sql -c "SELECT string_agg(id::text, ',') FROM (SELECT i.id FROM $1 i $2 ORDER BY i.e <=> '$q'::real[], i.id LIMIT 10) s"
    done <<<"$queries"
}
distributed=$(answers items "")
local=$(answers local_items "")
[ -n "$distributed" ] && [ "$distributed" = "$local" ] || fail "top 10 through the coordinator differs from one table:
$distributed
$local"
echo "top-10 cosine through the coordinator = one local table (10 queries, all lists probed)"

joined=$(answers items "JOIN tenants t USING (tenant) WHERE t.plan = 'pro'")
local_joined=$(answers local_items "JOIN local_tenants t USING (tenant) WHERE t.plan = 'pro'")
[ "$joined" = "$local_joined" ] || fail "the colocated join differs from one table"
routed=$(answers items "WHERE i.tenant = 3")
[ "$routed" = "$(answers local_items "WHERE i.tenant = 3")" ] || fail "a one-tenant query differs from one table"
plan=$(sql -c "EXPLAIN (COSTS OFF) SELECT i.id FROM items i JOIN tenants t USING (tenant) WHERE t.plan = 'pro' ORDER BY i.e <=> $literal LIMIT 10")
grep -q "Custom Scan (Citus Adaptive)" <<<"$plan" || fail "the join is not distributed: $plan"
echo "a join with the colocated tenants table and a one-tenant query return the local rows"
labelled=$(answers items "WHERE i.id % 5 = 2")
[ "$labelled" = "$(answers local_items "WHERE i.id % 5 = 2")" ] || fail "a label filter differs from one table"
plan=$(sql -c "SET citus.explain_all_tasks = on" -c "EXPLAIN (COSTS OFF) SELECT id FROM items WHERE id % 5 = 2 ORDER BY e <=> $literal LIMIT 10")
[ "$(grep -c "Index Scan using items_label_" <<<"$plan")" = "$tasks" ] || fail "not every shard filters through its label index: $plan"
echo "a filter on a label column, applied by each shard's label index, returns the local rows"
echo "citus: passed"
