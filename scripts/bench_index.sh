#!/usr/bin/env bash
# Index benchmark (prints figures, asserts nothing) on the shared 100k x 384
# wordnet-minilm-384 set: build time, table and index size, and recall@10 / QPS over a
# range of probes and rescore factors beside an exact scan of the same int8vec column, for
# the default 1-bit first pass and for 4-bit codes (WITH (code_bits = 4), on a copy of the
# table so that each index is the only one its queries can use), and an index over an
# int4vec(384) copy of the column (rescored from its 4-bit codes).
# QPS is measured the way a client sees it: one session, a prepared statement with the
# query vector as a real[] parameter, wall time over all queries after a warm-up pass
# (best of three passes). Where pgvector is installed in the same PostgreSQL, its HNSW
# indexes on vector and halfvec are built and measured in the same run, side by side.
# The figures land in docs/bench/{search,sizes}.tsv and are drawn into
# docs/bench/{recall_qps,sizes}.svg, which the README shows.
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
cargo build --release --quiet -p quantvec-client --example bench_index --example plot_bench
tool=target/release/quantvec-data
client=target/release/examples/bench_index
out=docs/bench
mkdir -p "$out"
: >"$out/search.tsv"
: >"$out/sizes.tsv"

work=/tmp/quantvec-bench-index
port=${BENCH_PORT:-54352}
trap 'cluster_stop $work' EXIT
cluster_start "$work" "$port" "shared_buffers = 1GB" "maintenance_work_mem = 1GB" "max_parallel_workers_per_gather = 0" "jit = off"
sql() { cluster_psql "$work" -d postgres "$@"; }

echo "== loading 100,000 vectors as int8vec(384)"
sql -q -c "CREATE EXTENSION quantvec" -c "CREATE TABLE floats (id int PRIMARY KEY, f real[])"
"$tool" copy "$data/base_f16.npy" | sql -q -c "COPY floats FROM STDIN"
sql -q -c "CREATE TABLE items (id int PRIMARY KEY, e int8vec(384))" -c "INSERT INTO items SELECT id, f FROM floats" -c "VACUUM ANALYZE items"
sql -q -c "CREATE TABLE items4 (id int PRIMARY KEY, e int8vec(384))" -c "INSERT INTO items4 SELECT id, e FROM items" -c "VACUUM ANALYZE items4"
sql -q -c "CREATE TABLE items_int4 (id int PRIMARY KEY, e int4vec(384))" -c "INSERT INTO items_int4 SELECT id, f FROM floats" -c "VACUUM ANALYZE items_int4"
pgvector=$(sql -At -c "SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'")
if [ "$pgvector" = 1 ]; then
    sql -q -c "CREATE EXTENSION vector" \
        -c "CREATE TABLE pv (id int PRIMARY KEY, v vector(384))" -c "INSERT INTO pv SELECT id, f::vector(384) FROM floats" \
        -c "CREATE TABLE ph (id int PRIMARY KEY, v vector(384))" -c "INSERT INTO ph SELECT id, f::vector(384) FROM floats" \
        -c "VACUUM ANALYZE pv, ph"
fi

mib() { sql -At -c "SELECT round(($1) / 1048576.0, 2)"; }
build() { # name, CREATE INDEX statement, table, index
    local started finished table index
    started=$(date +%s.%N)
    sql -q -c "$2"
    finished=$(date +%s.%N)
    table=$(mib "pg_table_size('$3')")
    index=$(mib "pg_relation_size('$4')")
    printf '%-40s build %6.2f s, table %6s MiB, index %6s MiB, table + index %6s MiB\n' "$1" \
        "$(awk -v a="$started" -v b="$finished" 'BEGIN { print b - a }')" "$table" "$index" "$(mib "pg_table_size('$3') + pg_relation_size('$4')")"
    printf '%s\t%s\t%s\n' "$5" "$table" "$index" >>"$out/sizes.tsv"
}
echo "== builds"
printf 'real[] table, no index\t%s\t0\n' "$(mib "pg_table_size('floats')")" >>"$out/sizes.tsv"
build "quantvec (int8vec_cosine_ops)" "CREATE INDEX items_e ON items USING quantvec (e int8vec_cosine_ops)" items items_e "int8vec + quantvec index"
sql -At -c "SELECT 'quantvec lists: ' || lists FROM quantvec_index_check('items_e')"
build "quantvec, 4-bit codes (code_bits = 4)" "CREATE INDEX items4_e ON items4 USING quantvec (e int8vec_cosine_ops) WITH (code_bits = 4)" items4 items4_e \
    "int8vec + quantvec index, 4-bit codes"
build "quantvec on int4vec (int4vec_cosine_ops)" "CREATE INDEX items_int4_e ON items_int4 USING quantvec (e int4vec_cosine_ops)" items_int4 items_int4_e \
    "int4vec + quantvec index"
if [ "$pgvector" = 1 ]; then
    build "pgvector HNSW on vector (m 16, ef_c 64)" "CREATE INDEX pv_v ON pv USING hnsw (v vector_cosine_ops)" pv pv_v "pgvector: vector + HNSW"
    build "pgvector HNSW on halfvec (m 16, ef_c 64)" "CREATE INDEX ph_v ON ph USING hnsw ((v::halfvec(384)) halfvec_cosine_ops)" ph ph_v "pgvector: vector + HNSW on halfvec"
fi

echo "== search ($queries queries)"
query='SELECT id FROM items ORDER BY e <=> $1::real[] LIMIT 10'
query4='SELECT id FROM items4 ORDER BY e <=> $1::real[] LIMIT 10'
# Runs over the probes x rescore factors grid: series, label prefix, factors, query.
grid() {
    for probes in ${BENCH_PROBES:-20 40 60 80 120 160 240}; do
        for factor in $3; do
            printf '%s rescore_factor=%s\t%sprobes=%s rescore_factor=%s\tSET quantvec.probes = %s; SET quantvec.rescore_factor = %s\t%s\n' \
                "$1" "$factor" "$2" "$probes" "$factor" "$probes" "$factor" "$4"
        done
    done
}
# What the index picks for each recall asked for: series, label prefix, query.
targets() {
    for target in ${BENCH_TARGETS:-0.9 0.95 0.97 0.99}; do
        printf '%s\t%starget_recall=%s\tSET quantvec.target_recall = %s\t%s\n' "$1" "$2" "$target" "$target" "$3"
    done
}
{
    printf 'exact scan of int8vec\texact scan of int8vec (no index)\tSET enable_indexscan = off\t%s\n' "$query"
    grid 'quantvec' 'index ' "${BENCH_FACTORS:-2 4 8 16}" "$query"
    grid 'quantvec 4-bit' 'index, 4-bit codes, ' "${BENCH_FACTORS4:-1 1.5 2 4}" "$query4"
    targets 'quantvec 4-bit target_recall' 'index, 4-bit codes, ' "$query4"
    grid 'quantvec int4vec' 'index on int4vec, ' "${BENCH_FACTORS:-2 4 8 16}" 'SELECT id FROM items_int4 ORDER BY e <=> $1::real[] LIMIT 10'
    targets 'quantvec int4vec target_recall' 'index on int4vec, ' 'SELECT id FROM items_int4 ORDER BY e <=> $1::real[] LIMIT 10'
    printf 'quantvec, default settings\tindex, default settings (target_recall 0.95)\t\t%s\n' "$query"
    # The 1-bit index at each target, and its fixed defaults before quantvec 0.5.0
    # (3·√632 = 76 probes, factor 8).
    targets 'quantvec target_recall' 'index, ' "$query"
    printf 'quantvec, 0.4.0 defaults\tindex, probes=76 rescore_factor=8 (0.4.0 defaults)\tSET quantvec.probes = 76; SET quantvec.rescore_factor = 8\t%s\n' "$query"
    if [ "$pgvector" = 1 ]; then
        # A query vector of pgvector's type reaches the index through pgvector's implicit
        # vector -> real[] cast; here it is converted twice (real[] -> vector -> real[]),
        # an upper bound of what a vector parameter costs against the same run above.
        printf 'quantvec, vector query\tindex, default settings, query as vector\t\t%s\n' \
            'SELECT id FROM items ORDER BY e <=> $1::real[]::vector LIMIT 10'
        for ef in 20 40 60 100 200; do
            printf 'pgvector HNSW halfvec\tpgvector hnsw halfvec ef_search=%s\tSET hnsw.ef_search = %s\t%s\n' "$ef" "$ef" \
                'SELECT id FROM ph ORDER BY v::halfvec(384) <=> $1::real[]::halfvec(384) LIMIT 10'
            printf 'pgvector HNSW vector\tpgvector hnsw vector ef_search=%s\tSET hnsw.ef_search = %s\t%s\n' "$ef" "$ef" \
                'SELECT id FROM pv ORDER BY v <=> $1::real[]::vector(384) LIMIT 10'
        done
    fi
} | RESULTS_TSV="$out/search.tsv" "$client" "$work/socket" "$port" "$data" "$queries"
target/release/examples/plot_bench "$out"
