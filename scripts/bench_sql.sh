#!/usr/bin/env bash
# SQL benchmark (prints figures, asserts nothing): loads the shared 100k x 384
# wordnet-minilm-384 set as real[], int8vec, int4vec and bitvec columns, prints bytes per row and
# table sizes, then recall@10 and time per query of exact ORDER BY ... LIMIT 10 scans over
# each, on one core (no parallel workers), after a warm-up pass. Where pgvector is installed
# in the same PostgreSQL, its vector column and exact scan are measured beside them; the
# executor alone (the same scan and top 10 over an integer) shows the floor under each scan.
#
#   bash scripts/bench_sql.sh [QUERIES]      # default 50 queries
#   PG_CONFIG=.../pg_config bash scripts/bench_sql.sh   # another PostgreSQL (e.g. 18, whose
#                                            # build from scripts/postgres.sh has pgvector)
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

pgvector=$(bench -At -c "SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'")
bench -v pgvector="$pgvector" <<'SQL'
\set ON_ERROR_STOP on
\pset footer off
CREATE TABLE items_int8 AS SELECT id, embedding::int8vec(384) AS embedding FROM items;
CREATE TABLE items_int4 AS SELECT id, embedding::int4vec(384) AS embedding FROM items;
CREATE TABLE items_4and8 AS SELECT id, embedding::int4vec(384) AS q4, embedding::int8vec(384) AS q FROM items;
CREATE TABLE items_bit AS SELECT id, bitvec_quantize(embedding)::bitvec(384) AS embedding FROM items;
CREATE TABLE items_both AS SELECT id, embedding::int8vec(384) AS q, bitvec_quantize(embedding)::bitvec(384) AS b FROM items;
-- pgvector's table stays empty where pgvector is not installed (its rows are left out).
CREATE TABLE items_vector (id int PRIMARY KEY, embedding bytea);
SELECT :pgvector = 1 AS pgvector \gset
\if :pgvector
CREATE EXTENSION vector;
DROP TABLE items_vector;
CREATE TABLE items_vector AS SELECT id, embedding::vector(384) AS embedding FROM items;
\endif
VACUUM ANALYZE items, items_int8, items_int4, items_4and8, items_bit, items_both, items_vector;
SELECT sum(pg_prewarm(t)) AS prewarmed
  FROM unnest(ARRAY['items', 'items_int8', 'items_int4', 'items_4and8', 'items_bit', 'items_both', 'items_vector']) t \gset
\i scripts/evaluate.sql

\echo 'Storage (table = heap + free-space and visibility maps)'
SELECT representation, bytes_per_vector, rows_per_page, pg_size_pretty(table_bytes) AS table_size,
       round(100.0 * table_bytes / first_value(table_bytes) OVER (ORDER BY ord), 1) AS pct_of_real
FROM (VALUES
  (1, 'real[]', (SELECT avg(pg_column_size(embedding))::int FROM items), 'items'),
  (2, 'int8vec(384)', (SELECT avg(pg_column_size(embedding))::int FROM items_int8), 'items_int8'),
  (3, 'int4vec(384)', (SELECT avg(pg_column_size(embedding))::int FROM items_int4), 'items_int4'),
  (4, 'bitvec(384)', (SELECT avg(pg_column_size(embedding))::int FROM items_bit), 'items_bit'),
  (5, 'int8vec(384) + bitvec(384)', (SELECT avg(pg_column_size(q) + pg_column_size(b))::int FROM items_both), 'items_both'),
  (6, 'int4vec(384) + int8vec(384)', (SELECT avg(pg_column_size(q4) + pg_column_size(q))::int FROM items_4and8), 'items_4and8'),
  (7, 'pgvector vector(384)', (SELECT avg(pg_column_size(embedding))::int FROM items_vector), 'items_vector')
) t(ord, representation, bytes_per_vector, tab),
LATERAL (SELECT pg_table_size(tab::regclass) AS table_bytes,
                round(100000.0 / nullif(pg_relation_size(tab::regclass), 0) * 8192, 1) AS rows_per_page) s
WHERE bytes_per_vector IS NOT NULL
ORDER BY ord;

\echo 'Exact scans, ORDER BY ... LIMIT 10 (one core, warm cache; second of two passes)'
CREATE TEMP TABLE searches (ord int, search text, query text);
INSERT INTO searches VALUES
  (0, 'floor: the int8vec table ORDER BY id + 0', 'SELECT id FROM items_int8 ORDER BY id + 0 LIMIT 10'),
  (1, 'real[]: cosine_distance(embedding, q)', 'SELECT id FROM items ORDER BY cosine_distance(embedding, $1) LIMIT 10'),
  (2, 'int8vec <=> real[]', 'SELECT id FROM items_int8 ORDER BY embedding <=> $1 LIMIT 10'),
  (3, 'int8vec <=> int8vec', 'SELECT id FROM items_int8 ORDER BY embedding <=> $1::int8vec LIMIT 10'),
  (4, 'int4vec <=> real[]', 'SELECT id FROM items_int4 ORDER BY embedding <=> $1 LIMIT 10'),
  (5, 'int4vec <=> int4vec', 'SELECT id FROM items_int4 ORDER BY embedding <=> $1::int4vec LIMIT 10'),
  (6, 'int4vec <=> real[], top 20 rescored by int8vec <=> real[]',
      'SELECT id FROM (SELECT id, q FROM items_4and8 ORDER BY q4 <=> $1 LIMIT 20) c ORDER BY q <=> $1 LIMIT 10'),
  (7, 'bitvec <~> bitvec (Hamming only)', 'SELECT id FROM items_bit ORDER BY embedding <~> bitvec_quantize($1) LIMIT 10'),
  (8, 'bitvec <~>, top 100 rescored by int8vec <=> real[]',
      'SELECT id FROM (SELECT id, q FROM items_both ORDER BY b <~> bitvec_quantize($1) LIMIT 100) c ORDER BY q <=> $1 LIMIT 10'),
  (9, 'bitvec <#> real[], top 40 rescored by int8vec <=> real[]',
      'SELECT id FROM (SELECT id, q FROM items_both ORDER BY b <#> $1 LIMIT 40) c ORDER BY q <=> $1 LIMIT 10');
\if :pgvector
INSERT INTO searches VALUES
  (10, 'pgvector: vector <=> vector', 'SELECT id FROM items_vector ORDER BY embedding <=> $1::vector LIMIT 10');
\endif
SELECT count(*) AS warm_up FROM searches, LATERAL evaluate(query) \gset
CREATE TEMP TABLE timed AS SELECT ord, search, e.* FROM searches, LATERAL evaluate(query) e;
SELECT search, recall AS "recall@10", ms_per_query,
       round((SELECT ms_per_query FROM timed WHERE ord = 1) / ms_per_query, 1) AS speedup_vs_real,
       round((SELECT ms_per_query FROM timed WHERE ord = 10) / ms_per_query, 1) AS speedup_vs_pgvector
  FROM timed ORDER BY ord;
SQL
