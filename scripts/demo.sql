-- The demo's SQL: run by scripts/demo.sh against a throwaway cluster after it has loaded
-- items(id, embedding real[]), queries(id, embedding real[]) and truth(query_id, ids int[])
-- (the exact cosine top-10 of each query).
\set ON_ERROR_STOP on
\pset footer off

-- Quantize: one table per representation, so that sizes can be compared.
CREATE TABLE items_int8 AS SELECT id, embedding::int8vec(384) AS embedding FROM items;
CREATE TABLE items_int4 AS SELECT id, embedding::int4vec(384) AS embedding FROM items;
CREATE TABLE items_bit AS SELECT id, bitvec_quantize(embedding)::bitvec(384) AS embedding FROM items;
-- What a binary first pass with int8 rescoring keeps: both codes.
CREATE TABLE items_both AS
  SELECT id, embedding::int8vec(384) AS q, bitvec_quantize(embedding)::bitvec(384) AS b FROM items;
VACUUM ANALYZE items, items_int8, items_int4, items_bit, items_both;

\ir evaluate.sql

\echo
\echo 'One search: the 5 nearest items to query 0, by int8 cosine distance against the float query'
SELECT id, round((embedding <=> (SELECT embedding FROM queries WHERE id = 0))::numeric, 4) AS cosine_distance
  FROM items_int8 ORDER BY embedding <=> (SELECT embedding FROM queries WHERE id = 0) LIMIT 5;

\echo 'Size per row and per table'
SELECT representation, bytes_per_vector, pg_size_pretty(table_bytes) AS table_size,
       round(100.0 * table_bytes / first_value(table_bytes) OVER (ORDER BY ord), 1) AS pct_of_float
FROM (VALUES
  (1, 'real[] (float32)', (SELECT avg(pg_column_size(embedding))::int FROM items), pg_table_size('items')),
  (2, 'int8vec(384)', (SELECT avg(pg_column_size(embedding))::int FROM items_int8), pg_table_size('items_int8')),
  (3, 'int4vec(384)', (SELECT avg(pg_column_size(embedding))::int FROM items_int4), pg_table_size('items_int4')),
  (4, 'bitvec(384)', (SELECT avg(pg_column_size(embedding))::int FROM items_bit), pg_table_size('items_bit')),
  (5, 'int8vec + bitvec', (SELECT avg(pg_column_size(q) + pg_column_size(b))::int FROM items_both), pg_table_size('items_both'))
) t(ord, representation, bytes_per_vector, table_bytes) ORDER BY ord;

\echo 'Recall@10 against exact float search, and time per query (sequential scans)'
SELECT search, e.recall AS "recall@10", e.ms_per_query FROM (VALUES
  (1, 'exact float cosine (real[])', 'SELECT id FROM items ORDER BY cosine_distance(embedding, $1) LIMIT 10'),
  (2, 'int8vec <=> real[] query', 'SELECT id FROM items_int8 ORDER BY embedding <=> $1 LIMIT 10'),
  (3, 'int8vec <=> int8vec query', 'SELECT id FROM items_int8 ORDER BY embedding <=> $1::int8vec LIMIT 10'),
  (4, 'int4vec <=> real[] query', 'SELECT id FROM items_int4 ORDER BY embedding <=> $1 LIMIT 10'),
  (5, 'bitvec Hamming, top 100 rescored with int8',
      'SELECT id FROM (SELECT id, q FROM items_both ORDER BY b <~> bitvec_quantize($1) LIMIT 100) c ORDER BY q <=> $1 LIMIT 10'),
  (6, 'bitvec <#> real[], top 40 rescored with int8',
      'SELECT id FROM (SELECT id, q FROM items_both ORDER BY b <#> $1 LIMIT 40) c ORDER BY q <=> $1 LIMIT 10')
) t(ord, search, query), LATERAL evaluate(query) e ORDER BY ord;

\echo 'The quality report: what each precision would give on this column, before converting it'
SELECT representation, candidates, round(recall_at_10::numeric, 3) AS "recall@10", bytes_per_vector,
       pg_size_pretty(estimated_table_bytes) AS table_size, pg_size_pretty(estimated_index_bytes) AS index_size
  FROM quantvec_quality_report('items', 'embedding', sample_rows => 5000, queries => 100);

\echo 'The index: inverted lists of binary codes, candidates rescored with int8'
CREATE INDEX items_int8_embedding ON items_int8 USING quantvec (embedding int8vec_cosine_ops);
SELECT lists, pg_size_pretty(pg_relation_size('items_int8_embedding')) AS index_size FROM quantvec_index_check('items_int8_embedding');
EXPLAIN (COSTS OFF) SELECT id FROM items_int8 ORDER BY embedding <=> (SELECT embedding FROM queries WHERE id = 0) LIMIT 10;
SELECT search, e.recall AS "recall@10", e.ms_per_query FROM (VALUES
  (1, 'index, default settings (quantvec.target_recall = 0.95)', ''),
  (2, 'index, quantvec.target_recall = 0.99', 'SET LOCAL quantvec.target_recall = 0.99'),
  (3, 'index, quantvec.probes = 30, rescore_factor = 8', 'SET LOCAL quantvec.probes = 30; SET LOCAL quantvec.rescore_factor = 8'),
  (4, 'index, quantvec.probes = 60, rescore_factor = 16', 'SET LOCAL quantvec.probes = 60; SET LOCAL quantvec.rescore_factor = 16')
) t(ord, search, settings), LATERAL evaluate('SELECT id FROM items_int8 ORDER BY embedding <=> $1 LIMIT 10', settings) e ORDER BY ord;
