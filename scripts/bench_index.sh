#!/usr/bin/env bash
# Index benchmark (prints figures, asserts nothing) on the shared 100k x 384
# wordnet-minilm-384 set: build time, table and index size, and recall@10 / QPS over a
# range of probes and rescore factors beside an exact scan of the same int8vec column.
# QPS is measured the way a client sees it: one session, a prepared statement with the
# query vector as a real[] parameter, wall time over all queries after a warm-up pass.
#
#   bash scripts/bench_index.sh [QUERIES]     # default 1000
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/cluster.sh
queries=${1:-1000}
data=${QUANTVEC_DATA_DIR:-../shared/data}/wordnet-minilm-384

bash scripts/install.sh
cargo build --release --quiet -p quantvec-core --bin quantvec-data
cargo build --release --quiet -p quantvec-client --example bench_index
tool=target/release/quantvec-data
client=target/release/examples/bench_index

work=/tmp/quantvec-bench-index
port=${BENCH_PORT:-54352}
trap 'cluster_stop $work' EXIT
cluster_start "$work" "$port" "shared_buffers = 1GB" "maintenance_work_mem = 1GB" "max_parallel_workers_per_gather = 0" "jit = off"
sql() { cluster_psql "$work" -d postgres "$@"; }

echo "== loading 100,000 vectors as int8vec(384)"
sql -q -c "CREATE EXTENSION quantvec" -c "CREATE TABLE items (id int PRIMARY KEY, e int8vec(384))"
"$tool" copy "$data/base_f16.npy" | sql -q -c "COPY items FROM STDIN"
sql -q -c "VACUUM ANALYZE items"

echo "== build"
started=$(date +%s.%N)
sql -q -c "CREATE INDEX items_e ON items USING quantvec (e int8vec_cosine_ops)"
finished=$(date +%s.%N)
sql -At -F ' ' -c "SELECT 'build seconds: ' || round(($finished - $started)::numeric, 2),
                          ', lists: ' || (SELECT lists FROM quantvec_index_check('items_e')),
                          ', table: ' || pg_size_pretty(pg_table_size('items')),
                          ', index: ' || pg_size_pretty(pg_relation_size('items_e')),
                          ', table + index: ' || pg_size_pretty(pg_table_size('items') + pg_relation_size('items_e'))"

echo "== search ($queries queries)"
query='SELECT id FROM items ORDER BY e <=> $1::real[] LIMIT 10'
{
    printf 'exact scan of int8vec (no index)\tSET enable_indexscan = off\t%s\n' "$query"
    for probes in 20 40 60 80 120 160 240; do
        for factor in 2 4 8 16; do
            printf 'index probes=%s rescore_factor=%s\tSET quantvec.probes = %s; SET quantvec.rescore_factor = %s\t%s\n' \
                "$probes" "$factor" "$probes" "$factor" "$query"
        done
    done
    printf 'index, default settings\t\t%s\n' "$query"
} | "$client" "$work/socket" "$port" "$data" "$queries"
