-- A hash-partitioned table with a quantvec index on every partition: ORDER BY ... LIMIT
-- merges the partitions' ordered index scans, and gives the same rows as one table.
CREATE TABLE parts (id int, e int8vec(8)) PARTITION BY HASH (id);
CREATE TABLE parts_0 PARTITION OF parts FOR VALUES WITH (MODULUS 3, REMAINDER 0);
CREATE TABLE parts_1 PARTITION OF parts FOR VALUES WITH (MODULUS 3, REMAINDER 1);
CREATE TABLE parts_2 PARTITION OF parts FOR VALUES WITH (MODULUS 3, REMAINDER 2);
CREATE TABLE whole (id int, e int8vec(8));
INSERT INTO whole SELECT i, ARRAY[sin(i), cos(i), sin(i / 3.0), cos(i / 7.0), i % 5, i % 3, 1, -1]::real[] FROM generate_series(1, 3000) i;
INSERT INTO parts SELECT * FROM whole;
CREATE INDEX ON parts USING quantvec (e int8vec_l2_ops);
CREATE INDEX ON whole USING quantvec (e int8vec_l2_ops);
SELECT c.relname, i.relname AS index FROM pg_inherits JOIN pg_class c ON c.oid = inhrelid
  JOIN pg_index x ON x.indrelid = c.oid JOIN pg_class i ON i.oid = x.indexrelid ORDER BY 1;
ANALYZE parts, whole;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM parts ORDER BY e <-> '{1,0,0,1,2,1,1,-1}'::real[] LIMIT 10;
-- Every list probed and every candidate rescored: exact int8 answers on both sides.
SET quantvec.probes = 100000;
SET quantvec.rescore_factor = 100000;
SELECT (SELECT array_agg(id) FROM (SELECT id FROM parts ORDER BY e <-> '{1,0,0,1,2,1,1,-1}'::real[] LIMIT 10) p)
     = (SELECT array_agg(id) FROM (SELECT id FROM whole ORDER BY e <-> '{1,0,0,1,2,1,1,-1}'::real[] LIMIT 10) w) AS same_rows;
-- The last statement scanned the three partitions' indexes and the whole table's.
SELECT indexrelid, loops, lists_probed > 0 AS probed, rows_returned BETWEEN 1 AND 10 AS returned FROM quantvec_last_scan() ORDER BY 1::text;
SELECT count(*) AS partitions, sum(rows) FROM quantvec_index_stats('parts_e_idx');
RESET ALL;
