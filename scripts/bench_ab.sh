#!/usr/bin/env bash
# A/B benchmark of two builds of the extension's library (prints figures, asserts nothing):
# one cluster (of the PostgreSQL whose pg_config is PG_CONFIG, default 15), one 1-bit index
# over the shared 100k x 384 set, and the two quantvec.so files swapped between rounds (the
# server restarted and the index read into shared buffers each time), so that only the code
# differs: same pages, same queries. Each round measures QPS and recall@10 over a probes x
# rescore_factor grid with the index benchmark's client; the script prints, per setting,
# each side's best QPS and the per-round ratios, and the geometric mean of all ratios. Both
# builds must read the same page format and have the same SQL; the installed library is
# put back at the end.
#
#   bash scripts/bench_ab.sh OLD.so NEW.so [ROUNDS] [QUERIES]     # defaults 6 and 1000
#
# e.g. the library of an earlier commit: build it in a worktree of its own (git worktree
# add /tmp/old REV; cd /tmp/old; bash scripts/install.sh), copy
# $(pg_config --pkglibdir)/quantvec.so aside, then install the current tree and copy its.
set -euo pipefail
cd "$(dirname "$0")/.."
old=${1:?"usage: bash scripts/bench_ab.sh OLD.so NEW.so [ROUNDS] [QUERIES]"}
new=${2:?"usage: bash scripts/bench_ab.sh OLD.so NEW.so [ROUNDS] [QUERIES]"}
rounds=${3:-6}
queries=${4:-1000}
source scripts/cluster.sh
data=${QUANTVEC_DATA_DIR:-../shared/data}/wordnet-minilm-384
cargo build --release --quiet -p quantvec-core --bin quantvec-data
cargo build --release --quiet -p quantvec-client --example bench_index
pkglib=$("$PG_CONFIG" --pkglibdir)
installed=$(mktemp)
cp "$pkglib/quantvec.so" "$installed"

work=/tmp/quantvec-bench-ab
port=${BENCH_PORT:-54361}
settings=("shared_buffers = 1GB" "maintenance_work_mem = 1GB" "max_parallel_workers_per_gather = 0" "jit = off")
trap 'cluster_stop $work; cp "$installed" "$pkglib/quantvec.so"; rm -f "$installed"' EXIT
sql() { cluster_psql "$work" -d postgres "$@"; }
cp "$new" "$pkglib/quantvec.so"
cluster_start "$work" "$port" "${settings[@]}"
sql -q -c "CREATE EXTENSION quantvec" -c "CREATE TABLE floats (id int PRIMARY KEY, f real[])"
target/release/quantvec-data copy "$data/base_f16.npy" | sql -q -c "COPY floats FROM STDIN"
sql -q -c "CREATE TABLE items (id int PRIMARY KEY, e int8vec(384))" -c "INSERT INTO items SELECT id, f FROM floats" -c "VACUUM ANALYZE items"
sql -q -c "CREATE INDEX items_e ON items USING quantvec (e int8vec_cosine_ops)"

grid() {
    for probes in ${BENCH_PROBES:-20 80 160 240}; do
        for factor in ${BENCH_FACTORS:-2 8}; do
            printf 'ab\tprobes=%s rescore_factor=%s\tSET quantvec.probes = %s; SET quantvec.rescore_factor = %s\t%s\n' "$probes" "$factor" "$probes" "$factor" \
                'SELECT id FROM items ORDER BY e <=> $1::real[] LIMIT 10'
        done
    done
}
for round in $(seq 1 "$rounds"); do
    for side in old new; do
        cluster_stop "$work"
        if [ "$side" = old ]; then cp "$old" "$pkglib/quantvec.so"; else cp "$new" "$pkglib/quantvec.so"; fi
        as_postgres "$PG_BIN/pg_ctl" -D "$work/data" -l "$work/data/server.log" -w start >/dev/null
        # Every list probed once: the whole index in shared buffers before the timing.
        sql -q -c "SET quantvec.probes = 100000" -c "SELECT count(*) FROM (SELECT id FROM items ORDER BY e <=> (SELECT e FROM items LIMIT 1) LIMIT 100000) s" >/dev/null
        grid | RESULTS_TSV="$work/$side.tsv" target/release/examples/bench_index "$work/socket" "$port" "$data" "$queries" >/dev/null
        echo "round $round of $rounds: $side measured"
    done
done
# Each side's file holds one line per setting and round, in the same order.
paste "$work/old.tsv" "$work/new.tsv" | awk -F '\t' -v rounds="$rounds" '
    { label = $2; if (!(label in best_old)) order[n++] = label
      if ($3 != $7) recall_differs[label] = 1
      if ($4 > best_old[label]) best_old[label] = $4
      if ($8 > best_new[label]) best_new[label] = $8
      ratios[label] = ratios[label] sprintf(" %.2f", $8 / $4); logs += log($8 / $4); count++ }
    END { printf "%-34s %9s %9s  %s\n", "setting", "old best", "new best", "new/old per round"
          for (i = 0; i < n; i++) { l = order[i]
              printf "%-34s %9.0f %9.0f %s%s\n", l, best_old[l], best_new[l], ratios[l], (l in recall_differs) ? "  (recall differs)" : "" }
          printf "geometric mean of new/old over %d rounds and settings: %.3f\n", rounds, exp(logs / count) }'
