#!/usr/bin/env bash
# Index benchmark (prints figures, asserts nothing) on a shared data set (default the 100k x
# 384 wordnet-minilm-384; BENCH_DATA names another of the same layout, e.g. the 812k x 256
# pkg-summaries made by its make.py): build time, peak private memory of the building
# backend (RssAnon, sampled every 50 ms; pgvector's parallel build keeps its graph in shared
# memory, which this does not count), table and index size, and recall@10 / QPS over a
# range of probes and rescore factors beside an exact scan of the same int8vec column, for
# the default 1-bit first pass and (BENCH_VARIANTS=1, the default) for 4-bit codes (WITH
# (code_bits = 4), on a copy of the table so that each index is the only one its queries
# can use) and an index over an int4vec copy of the column (rescored from its 4-bit codes).
# QPS is measured the way a client sees it: one session, a prepared statement with the
# query vector as a real[] parameter, wall time over all queries after a warm-up pass
# (best of BENCH_ROUNDS passes, default 3).
#
# Peers, measured in the same run with the same client and queries where they are
# installed in the same PostgreSQL:
# - pgvector (BENCH_PGVECTOR=1, the default): HNSW on vector and on halfvec (m 16,
#   ef_construction 64, ef_search 20-320), built with maintenance_work_mem = 1GB;
# - VectorChord: vchordrq on the vector column (vector_cosine_ops) and on a rabitq8 column
#   (rabitq8_cosine_ops), with quantvec's list count, spherical_centroids and quantvec's
#   build threads, probes swept from 1.3% to 40% of the lists at vchordrq.epsilon 1.9 (its
#   default) and 1.0. VectorChord is not packaged: with VECTORCHORD_SRC naming a checkout
#   of tensorchord/VectorChord (1.1.1 is what the README's figures used), this script builds
#   and installs it (`make build && make install` with PG_CONFIG, ~10 minutes on 2 cores,
#   once). It needs pgvector, and the cluster then preloads vchord.
# quantvec and VectorChord build with maintenance_work_mem = BENCH_MWM (default 256MB).
# The figures land in docs/bench/{search,sizes}.tsv (or BENCH_OUT's) and are drawn into
# recall_qps.svg and sizes.svg beside them; the summary prints each side's QPS at recall 0.95
# and 0.99 and quantvec's ratios to its peers.
#
#   bash scripts/bench_index.sh [QUERIES]     # default 1000
#   BENCH_DATA=/tmp/pkg/out BENCH_OUT=docs/bench/pkg-summaries BENCH_PGVECTOR=0 BENCH_VARIANTS=0 BENCH_ROUNDS=1 \
#       VECTORCHORD_SRC=~/VectorChord PG_CONFIG=<18's pg_config> bash scripts/bench_index.sh 300
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/cluster.sh
queries=${1:-1000}
data=${BENCH_DATA:-${QUANTVEC_DATA_DIR:-../shared/data}/wordnet-minilm-384}
with_pgvector=${BENCH_PGVECTOR:-1}
with_variants=${BENCH_VARIANTS:-1}
mwm=${BENCH_MWM:-256MB}

bash scripts/install.sh
cargo build --release --quiet -p quantvec-core --bin quantvec-data
cargo build --release --quiet -p quantvec-client --example bench_index --example plot_bench
tool=target/release/quantvec-data
client=target/release/examples/bench_index
out=${BENCH_OUT:-docs/bench}
mkdir -p "$out"
: >"$out/search.tsv"
: >"$out/sizes.tsv"

preload=()
vectorchord_install && preload=("shared_preload_libraries = 'vchord'")

work=/tmp/quantvec-bench-index
port=${BENCH_PORT:-54352}
trap 'cluster_stop $work' EXIT
cluster_start "$work" "$port" "shared_buffers = 1GB" "max_parallel_workers_per_gather = 0" "jit = off" "${preload[@]}"
sql() { cluster_psql "$work" -d postgres "$@"; }
available() { sql -At -c "SELECT count(*) FROM pg_available_extensions WHERE name = '$1'"; }
pgvector=0
[ "$with_pgvector" = 1 ] || echo "== pgvector's HNSW is not measured (BENCH_PGVECTOR=$with_pgvector)"
[ "$(available vector)" = 1 ] && pgvector=1
vchord=0
if [ "${#preload[@]}" = 1 ] && [ "$pgvector" = 1 ]; then
    vchord=1
else
    echo "== VectorChord is not measured: it is not installed in this PostgreSQL (set VECTORCHORD_SRC to a checkout of tensorchord/VectorChord to build it) or pgvector is missing"
fi

"$tool" copy "$data/base_f16.npy" --limit 1 >"$work/first.tsv"
dims=$(awk -F'\t' '{ print gsub(/,/, ",", $2) + 1 }' "$work/first.tsv")
echo "== loading $data as int8vec($dims)"
sql -q -c "CREATE EXTENSION quantvec" -c "CREATE TABLE floats (id int PRIMARY KEY, f real[])"
"$tool" copy "$data/base_f16.npy" | sql -q -c "COPY floats FROM STDIN"
rows=$(sql -At -c "SELECT count(*) FROM floats")
sql -q -c "CREATE TABLE items (id int PRIMARY KEY, e int8vec($dims))" -c "INSERT INTO items SELECT id, f FROM floats" -c "VACUUM ANALYZE items"
if [ "$with_variants" = 1 ]; then
    sql -q -c "CREATE TABLE items4 (id int PRIMARY KEY, e int8vec($dims))" -c "INSERT INTO items4 SELECT id, e FROM items" -c "VACUUM ANALYZE items4"
    sql -q -c "CREATE TABLE items_int4 (id int PRIMARY KEY, e int4vec($dims))" -c "INSERT INTO items_int4 SELECT id, f FROM floats" -c "VACUUM ANALYZE items_int4"
fi
if [ "$pgvector" = 1 ]; then
    sql -q -c "CREATE EXTENSION vector"
    if [ "$with_pgvector" = 1 ]; then
        sql -q -c "CREATE TABLE pv (id int PRIMARY KEY, v vector($dims))" -c "INSERT INTO pv SELECT id, f::vector($dims) FROM floats" \
            -c "CREATE TABLE ph (id int PRIMARY KEY, v vector($dims))" -c "INSERT INTO ph SELECT id, f::vector($dims) FROM floats" \
            -c "VACUUM ANALYZE pv, ph"
    fi
fi
if [ "$vchord" = 1 ]; then
    sql -q -c "CREATE EXTENSION vchord" \
        -c "CREATE TABLE vc (id int PRIMARY KEY, v vector($dims))" -c "INSERT INTO vc SELECT id, f::vector($dims) FROM floats" \
        -c "CREATE TABLE vc8 (id int PRIMARY KEY, r rabitq8($dims))" -c "INSERT INTO vc8 SELECT id, quantize_to_rabitq8(f::vector($dims)) FROM floats" \
        -c "VACUUM ANALYZE vc, vc8"
fi

mib() { sql -At -c "SELECT round(($1) / 1048576.0, 2)"; }
# name, CREATE INDEX statement, table, index, setup (sizes.tsv), maintenance_work_mem
build() {
    local started finished table index pid="" peak=0 rss job
    started=$(date +%s.%N)
    # VectorChord reports its k-means at INFO, which reaches the client at any setting.
    sql -q -c "SET application_name = 'bench build'" -c "SET maintenance_work_mem = '$6'" -c "$2" 2> >(grep -v '^INFO:' >&2) &
    job=$!
    while kill -0 "$job" 2>/dev/null; do
        [ -n "$pid" ] || pid=$(sql -At -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'bench build'")
        if [ -n "$pid" ]; then
            rss=$(awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
            [ -n "$rss" ] && [ "$rss" -gt "$peak" ] && peak=$rss
        fi
        sleep 0.05
    done
    wait "$job"
    finished=$(date +%s.%N)
    table=$(mib "pg_table_size('$3')")
    index=$(mib "pg_relation_size('$4')")
    printf '%-42s build %7.2f s, peak RssAnon %5d MiB, table %7s MiB, index %7s MiB, table + index %7s MiB\n' "$1" \
        "$(awk -v a="$started" -v b="$finished" 'BEGIN { print b - a }')" $((peak / 1024)) "$table" "$index" \
        "$(mib "pg_table_size('$3') + pg_relation_size('$4')")"
    printf '%s\t%s\t%s\n' "$5" "$table" "$index" >>"$out/sizes.tsv"
}
# Huge pages change every side's speed once the index outgrows the CPU's caches (TLB misses
# on shared_buffers): PostgreSQL uses them (huge_pages = try) where the OS has reserved them.
echo "== shared_buffers $(sql -At -c "SHOW shared_buffers") in huge pages: $(sql -At -c "SHOW huge_pages_status" 2>/dev/null || echo "not reported before PostgreSQL 17")"
echo "== builds ($rows rows; quantvec and VectorChord with maintenance_work_mem $mwm and $(cluster_build_threads "$work") threads)"
printf 'real[] table, no index\t%s\t0\n' "$(mib "pg_table_size('floats')")" >>"$out/sizes.tsv"
build "quantvec (int8vec_cosine_ops)" "CREATE INDEX items_e ON items USING quantvec (e int8vec_cosine_ops)" items items_e \
    "int8vec + quantvec index" "$mwm"
lists=$(sql -At -c "SELECT lists FROM quantvec_index_stats('items_e')")
echo "quantvec lists: $lists"
if [ "$with_variants" = 1 ]; then
    build "quantvec, 4-bit codes (code_bits = 4)" "CREATE INDEX items4_e ON items4 USING quantvec (e int8vec_cosine_ops) WITH (code_bits = 4)" \
        items4 items4_e "int8vec + quantvec index, 4-bit codes" "$mwm"
    build "quantvec on int4vec (int4vec_cosine_ops)" "CREATE INDEX items_int4_e ON items_int4 USING quantvec (e int4vec_cosine_ops)" \
        items_int4 items_int4_e "int4vec + quantvec index" "$mwm"
fi
if [ "$vchord" = 1 ]; then
    vchord_options=$(vectorchord_options "$work" "$lists")
    build "VectorChord vchordrq on vector" "CREATE INDEX vc_v ON vc USING vchordrq (v vector_cosine_ops) WITH (options = \$\$$vchord_options\$\$)" \
        vc vc_v "VectorChord: vector + vchordrq" "$mwm"
    build "VectorChord vchordrq on rabitq8" "CREATE INDEX vc8_r ON vc8 USING vchordrq (r rabitq8_cosine_ops) WITH (options = \$\$$vchord_options\$\$)" \
        vc8 vc8_r "VectorChord: rabitq8 + vchordrq" "$mwm"
fi
if [ "$pgvector" = 1 ] && [ "$with_pgvector" = 1 ]; then
    build "pgvector HNSW on vector (m 16, ef_c 64)" "CREATE INDEX pv_v ON pv USING hnsw (v vector_cosine_ops)" pv pv_v \
        "pgvector: vector + HNSW" 1GB
    build "pgvector HNSW on halfvec (m 16, ef_c 64)" "CREATE INDEX ph_v ON ph USING hnsw ((v::halfvec($dims)) halfvec_cosine_ops)" ph ph_v \
        "pgvector: vector + HNSW on halfvec" 1GB
fi

echo "== search ($queries queries)"
query='SELECT id FROM items ORDER BY e <=> $1::real[] LIMIT 10'
query4='SELECT id FROM items4 ORDER BY e <=> $1::real[] LIMIT 10'
# Probe counts as thousandths of the lists (at 632 lists: 20, 40, 60, 80, 120, 160, 240, 320).
probes() {
    for permille in $1; do
        echo $(((lists * permille + 500) / 1000 > 0 ? (lists * permille + 500) / 1000 : 1))
    done
}
# Runs over the probes x rescore factors grid: series, label prefix, factors, query.
grid() {
    for probes in ${BENCH_PROBES:-$(probes "32 63 95 127 190 253 380 506")}; do
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
    # What a query costs the client with no search: its parameter, ten rows, the round trip.
    printf 'client floor\tclient floor (ten rows by primary key, no search)\t\t%s\n' 'SELECT id FROM items WHERE id < 10 AND $1::real[] IS NOT NULL'
    printf 'exact scan of int8vec\texact scan of int8vec (no index)\tSET enable_indexscan = off\t%s\n' "$query"
    grid 'quantvec' 'index ' "${BENCH_FACTORS:-2 4 8 16}" "$query"
    # The 1-bit index at each target.
    targets 'quantvec target_recall' 'index, ' "$query"
    printf 'quantvec, default settings\tindex, default settings (target_recall 0.95)\t\t%s\n' "$query"
    if [ "$with_variants" = 1 ]; then
        grid 'quantvec 4-bit' 'index, 4-bit codes, ' "${BENCH_FACTORS4:-1 1.5 2 4}" "$query4"
        targets 'quantvec 4-bit target_recall' 'index, 4-bit codes, ' "$query4"
        grid 'quantvec int4vec' 'index on int4vec, ' "${BENCH_FACTORS:-2 4 8 16}" 'SELECT id FROM items_int4 ORDER BY e <=> $1::real[] LIMIT 10'
        targets 'quantvec int4vec target_recall' 'index on int4vec, ' 'SELECT id FROM items_int4 ORDER BY e <=> $1::real[] LIMIT 10'
    fi
    if [ "$pgvector" = 1 ] && [ "$with_pgvector" = 1 ]; then
        # A query vector of pgvector's type reaches the index through pgvector's implicit
        # vector -> real[] cast; here it is converted twice (real[] -> vector -> real[]),
        # an upper bound of what a vector parameter costs against the same run above.
        printf 'quantvec, vector query\tindex, default settings, query as vector\t\t%s\n' \
            'SELECT id FROM items ORDER BY e <=> $1::real[]::vector LIMIT 10'
        for ef in 20 40 60 100 200 320; do
            printf 'pgvector HNSW halfvec\tpgvector hnsw halfvec ef_search=%s\tSET hnsw.ef_search = %s\t%s\n' "$ef" "$ef" \
                "SELECT id FROM ph ORDER BY v::halfvec($dims) <=> \$1::real[]::halfvec($dims) LIMIT 10"
            printf 'pgvector HNSW vector\tpgvector hnsw vector ef_search=%s\tSET hnsw.ef_search = %s\t%s\n' "$ef" "$ef" \
                "SELECT id FROM pv ORDER BY v <=> \$1::real[]::vector($dims) LIMIT 10"
        done
    fi
    if [ "$vchord" = 1 ]; then
        for epsilon in 1.9 1.0; do
            for probes in ${BENCH_VCHORD_PROBES:-$(probes "13 19 25 38 51 76 101 152 203 304 405")}; do
                printf 'VectorChord vector epsilon=%s\tvchordrq vector probes=%s epsilon=%s\tSET vchordrq.probes = %s; SET vchordrq.epsilon = %s\t%s\n' \
                    "$epsilon" "$probes" "$epsilon" "$probes" "$epsilon" "SELECT id FROM vc ORDER BY v <=> \$1::real[]::vector($dims) LIMIT 10"
                printf 'VectorChord rabitq8 epsilon=%s\tvchordrq rabitq8 probes=%s epsilon=%s\tSET vchordrq.probes = %s; SET vchordrq.epsilon = %s\t%s\n' \
                    "$epsilon" "$probes" "$epsilon" "$probes" "$epsilon" \
                    "SELECT id FROM vc8 ORDER BY r <=> quantize_to_rabitq8(\$1::real[]::vector($dims)) LIMIT 10"
            done
        done
    fi
} | RESULTS_TSV="$out/search.tsv" "$client" "$work/socket" "$port" "$data" "$queries"
target/release/examples/plot_bench "$out" "$((rows / 1000))k x $dims"
