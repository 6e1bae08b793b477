-- The quality report on a column of float vectors: every precision's recall@10 against
-- exact float search, with the storage it takes (figures vary with the data; shown bounded).
CREATE TABLE report_items (id int, emb real[], note text);
INSERT INTO report_items
SELECT i, (SELECT array_agg(sin(i * 0.13 * d) + cos(i + d))::real[] FROM generate_series(1, 48) d), 'note ' || i
  FROM generate_series(1, 1500) i;
SELECT representation, candidates, recall_at_10 BETWEEN 0 AND 1 AS recall_in_range,
       CASE WHEN representation LIKE 'real%' THEN recall_at_10 = 1 END AS exact, bytes_per_vector, estimated_table_bytes > 0 AS sized, estimated_index_bytes IS NOT NULL AS indexed
  FROM quantvec_quality_report('report_items', 'emb', sample_rows => 800, queries => 40);
SELECT bool_and(r.recall_at_10 >= 0.9) AS int8_keeps_neighbours
  FROM quantvec_quality_report('report_items', 'emb', 800, 40, 'l2') r WHERE representation = 'int8vec, real[] query';
SELECT count(*) FROM quantvec_quality_report('report_items', 'note');
SELECT count(*) FROM quantvec_quality_report('report_items', 'emb', distance => 'manhattan');
-- Tiny or nonsensical sample sizes: at least 20 rows are sampled, and a count below 1 is an error.
SELECT count(*) FROM quantvec_quality_report('report_items', 'emb', sample_rows => 1);
SELECT count(*) FROM quantvec_quality_report('report_items', 'emb', sample_rows => 0);
SELECT count(*) FROM quantvec_quality_report('report_items', 'emb', queries => -5);
