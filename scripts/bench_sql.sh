#!/usr/bin/env bash
# SQL benchmark (prints figures, asserts nothing): loads the shared 100k x 384
# wordnet-minilm-384 set as real[], int8vec and bitvec columns, prints bytes per row and
# table sizes, then recall@10 and time per query of exact ORDER BY ... LIMIT 10 scans over
# each, on one core (no parallel workers), after a warm-up pass.
#
#   bash scripts/bench_sql.sh [QUERIES]      # default 50 queries
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/cluster.sh
queries=${1:-50}
data=${QUANTVEC_DATA_DIR:-../shared/data}/wordnet-minilm-384

bash scripts/install.sh
cargo build --release --quiet -p quantvec-core --bin quantvec-data
tool=target/release/quantvec-data

work=/tmp/quantvec-bench
trap 'cluster_stop $work' EXIT
cluster_start "$work" "${BENCH_PORT:-54350}" "shared_buffers = 1GB" "max_parallel_workers_per_gather = 0" "jit = off"
bench() { cluster_psql "$work" -d postgres "$@"; }

echo "== loading 100,000 vectors and $queries queries from $data"
bench -c "CREATE EXTENSION quantvec" -c "CREATE EXTENSION pg_prewarm" \
      -c "CREATE TABLE items (id int PRIMARY KEY, embedding real[])" \
      -c "CREATE TABLE queries (id int PRIMARY KEY, embedding real[])" \
      -c "CREATE TABLE truth (query_id int PRIMARY KEY, ids int[])"
"$tool" copy "$data/base_f16.npy" | bench -c "COPY items FROM STDIN"
"$tool" copy "$data/queries_f16.npy" --limit "$queries" | bench -c "COPY queries FROM STDIN"
"$tool" truth "$data/base_f16.npy" "$data/queries_f16.npy" --queries "$queries" --k 10 | bench -c "COPY truth FROM STDIN"

bench <<'SQL'
\set ON_ERROR_STOP on
\pset footer off
CREATE TABLE items_int8 AS SELECT id, embedding::int8vec(384) AS embedding FROM items;
CREATE TABLE items_bit AS SELECT id, bitvec_quantize(embedding)::bitvec(384) AS embedding FROM items;
CREATE TABLE items_both AS SELECT id, embedding::int8vec(384) AS q, bitvec_quantize(embedding)::bitvec(384) AS b FROM items;
VACUUM ANALYZE items, items_int8, items_bit, items_both;
SELECT sum(pg_prewarm(t)) AS prewarmed FROM unnest(ARRAY['items', 'items_int8', 'items_bit', 'items_both']) t \gset
\i scripts/evaluate.sql

\echo 'Storage (table = heap + free-space and visibility maps)'
SELECT representation, bytes_per_vector, rows_per_page, pg_size_pretty(table_bytes) AS table_size,
       round(100.0 * table_bytes / first_value(table_bytes) OVER (ORDER BY ord), 1) AS pct_of_real
FROM (VALUES
  (1, 'real[]', (SELECT avg(pg_column_size(embedding))::int FROM items), 'items'),
  (2, 'int8vec(384)', (SELECT avg(pg_column_size(embedding))::int FROM items_int8), 'items_int8'),
  (3, 'bitvec(384)', (SELECT avg(pg_column_size(embedding))::int FROM items_bit), 'items_bit'),
  (4, 'int8vec(384) + bitvec(384)', (SELECT avg(pg_column_size(q) + pg_column_size(b))::int FROM items_both), 'items_both')
) t(ord, representation, bytes_per_vector, tab),
LATERAL (SELECT pg_table_size(tab::regclass) AS table_bytes,
                round(100000.0 / pg_relation_size(tab::regclass) * 8192, 1) AS rows_per_page) s
ORDER BY ord;

\echo 'Exact scans, ORDER BY ... LIMIT 10 (one core, warm cache; second of two passes)'
CREATE TEMP TABLE searches (ord int, search text, query text);
INSERT INTO searches VALUES
  (1, 'real[]: cosine_distance(embedding, q)', 'SELECT id FROM items ORDER BY cosine_distance(embedding, $1) LIMIT 10'),
  (2, 'int8vec <=> real[]', 'SELECT id FROM items_int8 ORDER BY embedding <=> $1 LIMIT 10'),
  (3, 'int8vec <=> int8vec', 'SELECT id FROM items_int8 ORDER BY embedding <=> $1::int8vec LIMIT 10'),
  (4, 'bitvec <~> bitvec (Hamming only)', 'SELECT id FROM items_bit ORDER BY embedding <~> bitvec_quantize($1) LIMIT 10'),
  (5, 'bitvec <~>, top 100 rescored by int8vec <=> real[]',
      'SELECT id FROM (SELECT id, q FROM items_both ORDER BY b <~> bitvec_quantize($1) LIMIT 100) c ORDER BY q <=> $1 LIMIT 10'),
  (6, 'bitvec <#> real[], top 40 rescored by int8vec <=> real[]',
      'SELECT id FROM (SELECT id, q FROM items_both ORDER BY b <#> $1 LIMIT 40) c ORDER BY q <=> $1 LIMIT 10');
SELECT count(*) AS warm_up FROM searches, LATERAL evaluate(query) \gset
SELECT search, e.recall AS "recall@10", e.ms_per_query,
       round(first_value(e.ms_per_query) OVER (ORDER BY ord) / e.ms_per_query, 1) AS speedup_vs_real
  FROM searches, LATERAL evaluate(query) e ORDER BY ord;
SQL
