-- The quantvec index: operator classes, plans, exact answers when every list is probed,
-- NULLs, inserts, deletes and vacuum, options and errors.
CREATE TABLE docs (id int PRIMARY KEY, e int8vec(16), b bitvec(16));
INSERT INTO docs
SELECT i, v::int8vec(16), bitvec_quantize(v)::bitvec(16)
  FROM (SELECT i, (SELECT array_agg(sin(i * 0.37 + d * 1.3) + cos(i * 0.11 * d))::real[] FROM generate_series(1, 16) d) v
          FROM generate_series(1, 3000) i) s;
INSERT INTO docs VALUES (0, NULL, NULL);
CREATE INDEX docs_cos ON docs USING quantvec (e int8vec_cosine_ops);
CREATE INDEX docs_l2 ON docs USING quantvec (e int8vec_l2_ops) WITH (lists = 30);
CREATE INDEX docs_ip ON docs USING quantvec (e int8vec_ip_ops) WITH (lists = 10, sample = 500);
CREATE INDEX docs_ham ON docs USING quantvec (b bitvec_hamming_ops);
SELECT * FROM quantvec_index_check('docs_cos');
SELECT * FROM quantvec_index_check('docs_ham');
\d docs

-- The planner takes the index for ORDER BY distance LIMIT k, not without ORDER BY.
ANALYZE docs;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM docs ORDER BY e <=> '{1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1}'::real[] LIMIT 5;
-- Plans in the words of the newest PostgreSQL: 17 no longer names an InitPlan's parameter
-- $0, and 18 marks the nodes that enable_seqscan = off could not avoid "Disabled".
CREATE FUNCTION plan_of(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
        CONTINUE WHEN line ~ '^ +Disabled: true$';
        RETURN NEXT replace(replace(line, 'InitPlan 1 (returns $0)', 'InitPlan 1'), '$0', '(InitPlan 1).col1');
    END LOOP;
END $$;
-- A subquery as the query vector reaches the index as a parameter.
SELECT plan_of('SELECT id FROM docs ORDER BY e <-> (SELECT e FROM docs WHERE id = 7) LIMIT 5');
SELECT plan_of('SELECT id FROM docs WHERE e IS NOT NULL LIMIT 5');
DROP FUNCTION plan_of;
RESET enable_seqscan;
-- With the planner's free choice: the index for ORDER BY ... LIMIT on a table of some
-- size; a sequential scan for a table of a few rows; the primary key for one row.
EXPLAIN (COSTS OFF) SELECT id FROM docs ORDER BY e <=> '{1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1}'::real[] LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM docs WHERE id = 7 ORDER BY e <=> '{1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1}'::real[] LIMIT 5;
CREATE TABLE tiny (id int PRIMARY KEY, e int8vec(4));
INSERT INTO tiny SELECT i, ARRAY[i, 1, 2, 3]::real[] FROM generate_series(1, 20) i;
CREATE INDEX ON tiny USING quantvec (e);
ANALYZE tiny;
EXPLAIN (COSTS OFF) SELECT id FROM tiny ORDER BY e <-> '{1,1,1,1}'::real[] LIMIT 5;

-- Probing every list and rescoring every candidate gives the exact int8 answers.
SET quantvec.probes = 1000000;
SET quantvec.rescore_factor = 1000000;
CREATE TEMP TABLE q AS SELECT e AS qi, e::real[] AS qf, b AS qb FROM docs WHERE id = 42;
SET enable_seqscan = off;
CREATE TEMP TABLE by_index AS
  SELECT 'cos' AS op, array_agg(id) AS ids FROM (SELECT id FROM docs, q ORDER BY e <=> qf LIMIT 10) s
  UNION ALL SELECT 'cos_int8', array_agg(id) FROM (SELECT id FROM docs, q ORDER BY e <=> qi LIMIT 10) s
  UNION ALL SELECT 'l2', array_agg(id) FROM (SELECT id FROM docs, q ORDER BY e <-> qf LIMIT 10) s
  UNION ALL SELECT 'ip', array_agg(id) FROM (SELECT id FROM docs, q ORDER BY e <#> qf LIMIT 10) s
  UNION ALL SELECT 'hamming', array_agg(d::int) FROM (SELECT b <~> qb AS d FROM docs, q ORDER BY b <~> qb LIMIT 10) s;
RESET enable_seqscan;
SET enable_indexscan = off;
CREATE TEMP TABLE by_scan AS
  SELECT 'cos' AS op, array_agg(id) AS ids FROM (SELECT id FROM docs, q ORDER BY e <=> qf LIMIT 10) s
  UNION ALL SELECT 'cos_int8', array_agg(id) FROM (SELECT id FROM docs, q ORDER BY e <=> qi::real[] LIMIT 10) s
  UNION ALL SELECT 'l2', array_agg(id) FROM (SELECT id FROM docs, q ORDER BY e <-> qf LIMIT 10) s
  UNION ALL SELECT 'ip', array_agg(id) FROM (SELECT id FROM docs, q ORDER BY e <#> qf LIMIT 10) s
  UNION ALL SELECT 'hamming', array_agg(d::int) FROM (SELECT b <~> qb AS d FROM docs, q ORDER BY b <~> qb LIMIT 10) s;
RESET enable_indexscan;
-- (Hamming distances tie: the nearest 10 distances are compared, not which of the tied rows;
-- they are whole numbers, taken as int so that the UNION casts no array, which PostgreSQL
-- 17.9's planner fails on with "no relation entry for relid 0".)
SELECT i.op, i.ids = s.ids AS same_as_sequential_scan FROM by_index i JOIN by_scan s USING (op) ORDER BY op;
RESET quantvec.probes;
RESET quantvec.rescore_factor;

-- The scan never stops at k: a filter that rejects most rows still gets its rows, and a
-- query that reads every row gets every non-NULL row once.
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM docs, q WHERE id % 50 = 0 ORDER BY e <=> qf LIMIT 20) s;
SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM docs, q ORDER BY e <=> qf) s;
-- A NULL query returns the rows in no particular order.
SELECT count(*) FROM (SELECT id FROM docs ORDER BY e <=> NULL::real[]) s;
SELECT count(*) FROM (SELECT id FROM docs ORDER BY b <~> NULL::bitvec) s;
RESET enable_seqscan;

-- Inserts, updates, deletes and vacuum keep the index consistent.
INSERT INTO docs SELECT i + 10000, ('{' || i || ',1,0,0,0,0,0,0,0,0,0,0,0,0,0,1}')::real[], repeat('10', 8)::bitvec FROM generate_series(1, 700) i;
UPDATE docs SET e = '{1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1}' WHERE id BETWEEN 100 AND 199;
DELETE FROM docs WHERE id % 4 = 0;
SELECT * FROM quantvec_index_check('docs_cos');
VACUUM docs;
SELECT * FROM quantvec_index_check('docs_cos');
SELECT * FROM quantvec_index_check('docs_l2');
SELECT * FROM quantvec_index_check('docs_ip');
SELECT * FROM quantvec_index_check('docs_ham');
INSERT INTO docs SELECT i + 20000, ('{1,' || i || ',0,0,0,0,0,0,0,0,0,0,0,0,0,1}')::real[], repeat('01', 8)::bitvec FROM generate_series(1, 400) i;
SELECT * FROM quantvec_index_check('docs_cos');
REINDEX INDEX docs_cos;
SELECT * FROM quantvec_index_check('docs_cos');
REINDEX INDEX CONCURRENTLY docs_l2;
SELECT * FROM quantvec_index_check('docs_l2');
DROP INDEX docs_ip;
CREATE INDEX CONCURRENTLY docs_ip ON docs USING quantvec (e int8vec_ip_ops);
SELECT * FROM quantvec_index_check('docs_ip');
INSERT INTO docs VALUES (99999, '{1,2}', '10');

-- What an index holds (its rows by list, its pages by kind, its parameters) and what the
-- last statement's index scans did. Lists depend on the kernels' rounding: shown bounded.
DELETE FROM docs WHERE id BETWEEN 20001 AND 20100;
VACUUM docs;
SELECT s.indexrelid, format_version, metric, dimensions, lists, rows = (SELECT count(e) FROM docs) AS all_rows,
       list_rows_min <= list_rows_median AND list_rows_median <= list_rows_max AS ordered,
       free_vector_slots > 0 AS slots_freed_by_vacuum, table_dead_rows >= 0 AS dead_counted,
       pages = pg_relation_size(s.indexrelid) / 8192 AND pages = 1 + centroid_pages + directory_pages + code_pages + vector_pages AS pages_add_up,
       build_options, default_probes > 0 AS probes_set, default_rescore_factor >= 1 AS factor_set,
       expected_recall BETWEEN 0 AND 1 AS recall_expected, labelled_rows
  FROM pg_class c, quantvec_index_stats(c.oid) s WHERE c.relname IN ('docs_l2', 'docs_ham') ORDER BY 1;
-- The recall curve the build measured (none for Hamming indexes, whose first pass is
-- exact). A target takes the cheapest setting that reaches it with a margin for sampling,
-- or the best there is.
SELECT count(*) > 1 AS points, bool_and(recall BETWEEN 0 AND 1 AND probes > 0 AND rescore_factor >= 1) AS sane
  FROM quantvec_index_recall('docs_l2');
SELECT count(*) FROM quantvec_index_recall('docs_ham');
SET quantvec.target_recall = 1;
SELECT expected_recall = (SELECT max(recall) FROM quantvec_index_recall('docs_l2')) AS best FROM quantvec_index_stats('docs_l2');
SET quantvec.target_recall = 0.5;
SELECT expected_recall >= 0.5 AS reaches, expected_recall IN (SELECT recall FROM quantvec_index_recall('docs_l2')) AS on_the_curve
  FROM quantvec_index_stats('docs_l2');
SET quantvec.target_recall = 1.5;
RESET quantvec.target_recall;
SET quantvec.probes = 5;
SELECT * FROM quantvec_index_stats('docs_l2') WHERE default_probes <> 5;
SET quantvec.rescore_factor = 4;
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM docs ORDER BY e <-> (SELECT qf FROM q) LIMIT 10) s;
SELECT indexrelid, loops, probes, rescore_factor, lists_probed, codes_scored > 0 AND codes_scored % 32 = 0 AS blocks_scored,
       rescans, rescored, rows_returned, pages_read > 0 AS read_pages
  FROM quantvec_last_scan();
-- A filter that rejects most rows makes the search rescan its lists.
SELECT count(*) FROM (SELECT id FROM docs WHERE id % 97 = 0 ORDER BY e <-> (SELECT qf FROM q) LIMIT 10) s;
SELECT lists_probed >= 5 AS probed, rescans + lists_probed > 5 AS searched_on, rows_returned >= 10 AS returned FROM quantvec_last_scan();
-- A nested loop rescans the index once per outer row: loops add up.
SELECT count((SELECT id FROM docs ORDER BY e <-> ARRAY[i, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]::real[] LIMIT 1)) FROM generate_series(1, 3) i;
SELECT indexrelid, loops, rows_returned FROM quantvec_last_scan();
-- A cursor's scan shows under each FETCH, with what it has done since it was opened.
BEGIN;
DECLARE nearest CURSOR FOR SELECT id FROM docs ORDER BY e <-> (SELECT qf FROM q);
FETCH 3 FROM nearest \g /dev/null
SELECT indexrelid, rows_returned FROM quantvec_last_scan();
FETCH 2 FROM nearest \g /dev/null
SELECT indexrelid, rows_returned FROM quantvec_last_scan();
COMMIT;
-- A statement that runs many scans (here 1,200 queries in a DO block) keeps the last 1,000.
DO $$
BEGIN
    FOR i IN 1..1200 LOOP
        PERFORM (SELECT id FROM docs ORDER BY e <-> ARRAY[i, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]::real[] LIMIT 1);
    END LOOP;
END
$$;
SELECT count(*), sum(rows_returned) FROM quantvec_last_scan();
RESET enable_seqscan;
RESET quantvec.probes;
RESET quantvec.rescore_factor;
SELECT * FROM quantvec_index_stats('docs_pkey');

-- An unlogged table, indexed while empty (one list until it is rebuilt).
CREATE UNLOGGED TABLE scratch (id int, e int8vec(4));
CREATE INDEX ON scratch USING quantvec (e int8vec_l2_ops);
INSERT INTO scratch SELECT i, ARRAY[i, -i, i % 7, 1]::real[] FROM generate_series(1, 300) i;
SELECT * FROM quantvec_index_check('scratch_e_idx');
SET enable_seqscan = off;
SELECT id FROM scratch ORDER BY e <-> '{5,-5,5,1}'::real[] LIMIT 3;
RESET enable_seqscan;

-- An index of a temporary table lives in local buffers, which scans do not remember; one
-- of an unlogged table in shared buffers, which they do. Scans repeated in the session and
-- after REINDEX (which moves the index to new buffers) return what a sequential scan returns.
CREATE TEMP TABLE scratch_temp AS SELECT id, e FROM scratch;
CREATE INDEX scratch_temp_e ON scratch_temp USING quantvec (e int8vec_l2_ops);
SET enable_seqscan = off;
SELECT id FROM scratch_temp ORDER BY e <-> '{5,-5,5,1}'::real[] LIMIT 3;
SELECT id FROM scratch_temp ORDER BY e <-> '{5,-5,5,1}'::real[] LIMIT 3;
REINDEX INDEX scratch_temp_e;
SELECT id FROM scratch_temp ORDER BY e <-> '{5,-5,5,1}'::real[] LIMIT 3;
REINDEX INDEX scratch_e_idx;
SELECT id FROM scratch ORDER BY e <-> '{5,-5,5,1}'::real[] LIMIT 3;
RESET enable_seqscan;
SELECT id FROM scratch_temp ORDER BY e <-> '{5,-5,5,1}'::real[] LIMIT 3;

-- Options, progress phase names and errors.
SELECT pg_indexam_progress_phasename(oid, phase) FROM pg_am, generate_series(2, 5) phase WHERE amname = 'quantvec';
CREATE TABLE free (e int8vec);
CREATE INDEX ON free USING quantvec (e int8vec_l2_ops);
-- An indexed column cannot lose its dimensions (ALTER COLUMN ... TYPE int8vec would keep the
-- index). One that lost them under 0.2.0 (the event trigger disabled here to make one) is
-- rebuilt with its rows' dimensions, and an empty one says how to declare them.
CREATE TABLE altered (id int, e int8vec(3));
INSERT INTO altered SELECT i, ARRAY[i, -i, 1]::real[] FROM generate_series(1, 50) i;
CREATE INDEX altered_e ON altered USING quantvec (e int8vec_l2_ops);
ALTER TABLE altered ALTER COLUMN e TYPE int8vec;
ALTER TABLE altered ALTER COLUMN e TYPE int8vec(3), ADD COLUMN note text;
REINDEX INDEX altered_e;
ALTER EVENT TRIGGER quantvec_check_dimensions DISABLE;
ALTER TABLE altered ALTER COLUMN e TYPE int8vec;
ALTER EVENT TRIGGER quantvec_check_dimensions ENABLE;
REINDEX INDEX altered_e;
VACUUM FULL altered;
SELECT lists, indexed_rows FROM quantvec_index_check('altered_e');
INSERT INTO altered VALUES (51, '[1,2]');
CREATE INDEX ON altered USING quantvec (e int8vec_l2_ops);
TRUNCATE altered;
DROP TABLE altered;
CREATE INDEX ON docs USING quantvec (e int8vec_l2_ops) WITH (lists = -1);
CREATE INDEX ON docs USING quantvec (e int8vec_l2_ops) WITH (probes = 3);
CREATE INDEX docs_default ON docs USING quantvec (e);
SELECT pg_get_indexdef('docs_default'::regclass);
DROP INDEX docs_default;
CREATE TABLE wide (e int8vec(1000));
INSERT INTO wide SELECT array_fill(i::real, ARRAY[1000]) FROM generate_series(1, 600) i;
SET maintenance_work_mem = '1MB';
CREATE INDEX ON wide USING quantvec (e int8vec_l2_ops) WITH (lists = 60);
RESET maintenance_work_mem;
CREATE TABLE huge (e int8vec(6100));
CREATE INDEX ON huge USING quantvec (e int8vec_l2_ops);
-- Wide columns: a block of codes wider than a page spans consecutive pages of its own (at
-- most 3). Build, inserts into free rows and new blocks, VACUUM and inserts into the freed
-- rows keep the index consistent, and with every list probed the index returns what a
-- sequential scan returns.
CREATE TABLE wide3k (id int, e int8vec(3072));
INSERT INTO wide3k SELECT i, (SELECT array_agg(sin(i * 0.37 + d * 1.3) + cos(d * (i % 17) * 0.01))::real[] FROM generate_series(1, 3072) d)
  FROM generate_series(1, 200) i;
CREATE INDEX wide3k_e ON wide3k USING quantvec (e int8vec_cosine_ops) WITH (lists = 3);
INSERT INTO wide3k SELECT i, (SELECT array_agg(sin(i * 0.37 + d * 1.3) + cos(d * (i % 17) * 0.01))::real[] FROM generate_series(1, 3072) d)
  FROM generate_series(201, 400) i;
SELECT lists, indexed_rows, heap_rows FROM quantvec_index_check('wide3k_e');
DELETE FROM wide3k WHERE id % 3 = 0;
VACUUM wide3k;
SELECT lists, indexed_rows, heap_rows FROM quantvec_index_check('wide3k_e');
INSERT INTO wide3k SELECT i, (SELECT array_agg(cos(i * 0.11 + d * 0.7))::real[] FROM generate_series(1, 3072) d)
  FROM generate_series(401, 500) i;
SELECT lists, indexed_rows, heap_rows FROM quantvec_index_check('wide3k_e');
SET quantvec.probes = 3;
SET quantvec.rescore_factor = 100;
SET enable_seqscan = off;
CREATE TEMP TABLE wide_by_index AS SELECT array_agg(id) AS ids FROM (SELECT id FROM wide3k ORDER BY e <=> (SELECT e::real[] FROM wide3k WHERE id = 77) LIMIT 10) s;
RESET enable_seqscan;
SET enable_indexscan = off;
SELECT ids = (SELECT array_agg(id) FROM (SELECT id FROM wide3k ORDER BY e <=> (SELECT e::real[] FROM wide3k WHERE id = 77) LIMIT 10) s) AS same_as_sequential_scan
  FROM wide_by_index;
RESET enable_indexscan;
RESET quantvec.probes;
RESET quantvec.rescore_factor;
DROP TABLE wide3k;
-- The widest indexable columns: a block of codes with its link fills 3 pages.
CREATE TABLE widest (id int, e int8vec(6000), b bitvec(6064));
INSERT INTO widest SELECT i, (SELECT array_agg(sin(i * d))::real[] FROM generate_series(1, 6000) d),
                             bitvec_quantize((SELECT array_agg(cos(i + d))::real[] FROM generate_series(1, 6064) d))
  FROM generate_series(1, 300) i;
CREATE INDEX widest_e ON widest USING quantvec (e int8vec_cosine_ops) WITH (lists = 3);
CREATE INDEX widest_b ON widest USING quantvec (b) WITH (lists = 3);
SELECT lists, indexed_rows FROM quantvec_index_check('widest_e');
SELECT lists, indexed_rows FROM quantvec_index_check('widest_b');
SET enable_seqscan = off;
SELECT id FROM widest ORDER BY e <=> (SELECT e FROM widest WHERE id = 7) LIMIT 1;
SELECT count(*) FROM (SELECT id FROM widest ORDER BY b <~> (SELECT b FROM widest WHERE id = 7) LIMIT 20) s;
RESET enable_seqscan;
ALTER TABLE widest ADD COLUMN e2 int8vec(6001), ADD COLUMN b2 bitvec(6072);
CREATE INDEX ON widest USING quantvec (e2 int8vec_l2_ops);
CREATE INDEX ON widest USING quantvec (b2);
DROP TABLE widest;
SELECT quantvec_index_check('docs_pkey');
-- A query of another width names both widths; the check of a partitioned index checks each
-- of its partitions.
SET enable_seqscan = off;
SELECT id FROM docs ORDER BY e <-> '{1,2,3}'::real[] LIMIT 1;
RESET enable_seqscan;
CREATE TABLE parted (id int, e int8vec(3)) PARTITION BY LIST ((id % 2));
CREATE TABLE parted_0 PARTITION OF parted FOR VALUES IN (0);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES IN (1);
INSERT INTO parted SELECT i, ARRAY[i, 1, -i]::real[] FROM generate_series(1, 100) i;
CREATE INDEX parted_e ON parted USING quantvec (e int8vec_l2_ops) WITH (lists = 2);
SELECT * FROM quantvec_index_check('parted_e');
DROP TABLE parted;
-- Any finite int8vec is indexable: coordinates past float16's range (the centroids are
-- stored scaled by a power of two); and distances past float32's are finite.
CREATE TABLE far (id int, e int8vec(4));
INSERT INTO far SELECT i, int8vec_quantize(ARRAY[i * 1e6, -i * 1e6, 1e5, i]::real[]) FROM generate_series(1, 200) i;
CREATE INDEX far_e ON far USING quantvec (e int8vec_l2_ops) WITH (lists = 4);
REINDEX INDEX far_e;
SELECT lists, indexed_rows FROM quantvec_index_check('far_e');
SET enable_seqscan = off;
SET quantvec.probes = 100;
CREATE TEMP TABLE far_by_index AS SELECT array_agg(id) AS ids FROM (SELECT id FROM far ORDER BY e <-> '{3e7,-3e7,1e5,30}'::real[] LIMIT 5) s;
RESET enable_seqscan;
RESET quantvec.probes;
SET enable_indexscan = off;
SELECT ids, ids = (SELECT array_agg(id) FROM (SELECT id FROM far ORDER BY e <-> '{3e7,-3e7,1e5,30}'::real[] LIMIT 5) s) AS same_as_sequential_scan FROM far_by_index;
RESET enable_indexscan;
SELECT '(1,0)[0]'::int8vec <-> '{1e20}'::real[] AS far, '(3e38,0)[127]'::int8vec <#> '{3e38}'::real[] AS huge_product;
DROP TABLE far;
-- Values whose scale puts them past float32's range are indexed too (held at ±3.4e38).
CREATE TABLE extreme (id int, e int8vec(2));
INSERT INTO extreme SELECT i, '(1,0)[1,2]'::int8vec FROM generate_series(1, 40) i;
INSERT INTO extreme VALUES (100, '(3e38,0)[127,1]'), (101, '(3e38,0)[-128,-128]');
CREATE INDEX extreme_l2 ON extreme USING quantvec (e int8vec_l2_ops);
CREATE INDEX extreme_ip ON extreme USING quantvec (e int8vec_ip_ops);
CREATE INDEX extreme_cos ON extreme USING quantvec (e int8vec_cosine_ops);
REINDEX TABLE extreme;
SELECT lists, indexed_rows FROM quantvec_index_check('extreme_l2');
SELECT lists, indexed_rows FROM quantvec_index_check('extreme_cos');
SET enable_seqscan = off;
SELECT id FROM extreme ORDER BY e <#> '{1,1}'::real[] LIMIT 1;
SELECT id FROM extreme ORDER BY e <=> '{-1,-1}'::real[] LIMIT 1;
RESET enable_seqscan;
DROP TABLE extreme;
-- 4-bit first-pass codes, WITH (code_bits = 4): 16 levels per dimension instead of a sign
-- (page format 3). With every list probed they give the exact int8 answers; with the
-- defaults they find the neighbours; inserts, deletes, VACUUM and REINDEX keep the index
-- consistent; other widths, bitvec columns and columns too wide for their blocks are refused.
CREATE TABLE nib (id int PRIMARY KEY, e int8vec(24));
INSERT INTO nib SELECT i, (SELECT array_agg(sin(i * 0.37 + d * 1.3) + cos(i * 0.11 * d))::real[] FROM generate_series(1, 24) d)
  FROM generate_series(1, 2000) i;
CREATE INDEX nib_cos ON nib USING quantvec (e int8vec_cosine_ops) WITH (code_bits = 4);
CREATE INDEX nib_l2 ON nib USING quantvec (e int8vec_l2_ops) WITH (code_bits = 4, lists = 20);
CREATE INDEX nib_ip ON nib USING quantvec (e int8vec_ip_ops) WITH (code_bits = 4, lists = 20);
SELECT pg_get_indexdef('nib_cos'::regclass);
SELECT format_version, metric, lists, expected_recall > 0.9 AS calibrated FROM quantvec_index_stats('nib_cos');
SELECT lists, indexed_rows FROM quantvec_index_check('nib_l2');
SET quantvec.probes = 1000000;
SET quantvec.rescore_factor = 1000000;
SET enable_seqscan = off;
CREATE TEMP TABLE nib_by_index AS
  SELECT 'cos' AS op, array_agg(id) AS ids FROM (SELECT id FROM nib ORDER BY e <=> (SELECT e::real[] FROM nib WHERE id = 42) LIMIT 10) s
  UNION ALL SELECT 'l2', array_agg(id) FROM (SELECT id FROM nib ORDER BY e <-> (SELECT e::real[] FROM nib WHERE id = 42) LIMIT 10) s
  UNION ALL SELECT 'ip', array_agg(id) FROM (SELECT id FROM nib ORDER BY e <#> (SELECT e::real[] FROM nib WHERE id = 42) LIMIT 10) s;
RESET enable_seqscan;
SET enable_indexscan = off;
SELECT op, ids = CASE op
    WHEN 'cos' THEN (SELECT array_agg(id) FROM (SELECT id FROM nib ORDER BY e <=> (SELECT e::real[] FROM nib WHERE id = 42) LIMIT 10) s)
    WHEN 'l2' THEN (SELECT array_agg(id) FROM (SELECT id FROM nib ORDER BY e <-> (SELECT e::real[] FROM nib WHERE id = 42) LIMIT 10) s)
    ELSE (SELECT array_agg(id) FROM (SELECT id FROM nib ORDER BY e <#> (SELECT e::real[] FROM nib WHERE id = 42) LIMIT 10) s) END AS exact
  FROM nib_by_index ORDER BY op;
RESET enable_indexscan;
RESET quantvec.probes;
RESET quantvec.rescore_factor;
-- The defaults (target recall 0.95), over 40 queries: recall@10 against a sequential scan.
CREATE TEMP TABLE nib_truth AS
  SELECT q, (SELECT array_agg(id) FROM (SELECT id FROM nib ORDER BY e <=> (SELECT e::real[] FROM nib WHERE id = q) LIMIT 10) s) AS ids
  FROM generate_series(7, 2000, 50) q;
SET enable_seqscan = off;
SELECT avg((SELECT count(*) FROM unnest(t.ids) i WHERE i = ANY (
         SELECT id FROM (SELECT id FROM nib ORDER BY e <=> (SELECT e::real[] FROM nib WHERE id = t.q) LIMIT 10) s))) >= 9 AS finds_neighbours
  FROM nib_truth t;
RESET enable_seqscan;
INSERT INTO nib SELECT i, (SELECT array_agg(cos(i * 0.21 + d))::real[] FROM generate_series(1, 24) d) FROM generate_series(2001, 2600) i;
DELETE FROM nib WHERE id % 4 = 0;
VACUUM nib;
SELECT lists, indexed_rows, heap_rows FROM quantvec_index_check('nib_cos');
REINDEX INDEX nib_ip;
SELECT lists, indexed_rows, heap_rows FROM quantvec_index_check('nib_ip');
CREATE INDEX ON nib USING quantvec (e int8vec_l2_ops) WITH (code_bits = 2);
CREATE INDEX ON nib USING quantvec (e int8vec_l2_ops) WITH (code_bits = 8);
CREATE TABLE nib_bits (b bitvec(64));
CREATE INDEX ON nib_bits USING quantvec (b) WITH (code_bits = 4);
CREATE TABLE nib_wide (e int8vec(2000));
CREATE INDEX ON nib_wide USING quantvec (e int8vec_l2_ops) WITH (code_bits = 4);
DROP TABLE nib, nib_bits, nib_wide;
-- int4vec columns: the int4vec operator classes keep the 4-bit codes for rescoring (half
-- the vector bytes of int8vec), with every list probed they give the exact int4vec
-- answers, against a real[] or an int4vec query; inserts, VACUUM and the check work.
CREATE TABLE docs4 (id int PRIMARY KEY, e int4vec(16));
INSERT INTO docs4 SELECT id, e::real[] FROM docs WHERE e IS NOT NULL;
INSERT INTO docs4 VALUES (0, NULL);
CREATE INDEX docs4_cos ON docs4 USING quantvec (e int4vec_cosine_ops);
CREATE INDEX docs4_l2 ON docs4 USING quantvec (e) WITH (lists = 20);
CREATE INDEX docs4_ip ON docs4 USING quantvec (e int4vec_ip_ops) WITH (code_bits = 4);
SELECT format_version, metric FROM quantvec_index_stats('docs4_cos');
SELECT lists, indexed_rows, heap_rows FROM quantvec_index_check('docs4_l2');
SELECT pg_relation_size('docs4_cos') < pg_relation_size('docs_cos') AS smaller_than_int8;
SET quantvec.probes = 1000000;
SET quantvec.rescore_factor = 1000000;
SET enable_seqscan = off;
-- (4-bit codes tie often, so the distances are compared: tied rows may come in any order.)
CREATE TEMP TABLE docs4_q AS SELECT e AS qi, e::real[] AS qf FROM docs4 WHERE id = 42;
CREATE TEMP VIEW docs4_top AS
  SELECT 'cos' AS op, array_agg(d) AS ds FROM (SELECT e <=> (SELECT qf FROM docs4_q) AS d FROM docs4 ORDER BY e <=> (SELECT qf FROM docs4_q) LIMIT 10) s
  UNION ALL SELECT 'cos_int4', array_agg(d) FROM (SELECT e <=> (SELECT qi FROM docs4_q) AS d FROM docs4 ORDER BY e <=> (SELECT qi FROM docs4_q) LIMIT 10) s
  UNION ALL SELECT 'l2', array_agg(d) FROM (SELECT e <-> (SELECT qf FROM docs4_q) AS d FROM docs4 ORDER BY e <-> (SELECT qf FROM docs4_q) LIMIT 10) s
  UNION ALL SELECT 'ip', array_agg(d) FROM (SELECT e <#> (SELECT qf FROM docs4_q) AS d FROM docs4 ORDER BY e <#> (SELECT qf FROM docs4_q) LIMIT 10) s;
CREATE TEMP TABLE docs4_by_index AS SELECT * FROM docs4_top;
-- Each of the four goes through one of the indexes.
CREATE FUNCTION index_scans(query text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE line text; n int := 0;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
        IF line ~ 'Index Scan using docs4_' THEN n := n + 1; END IF;
    END LOOP;
    RETURN n;
END $$;
SELECT index_scans('SELECT * FROM docs4_top');
DROP FUNCTION index_scans;
RESET enable_seqscan;
SET enable_indexscan = off;
SELECT t.op, t.ds = i.ds AS exact FROM docs4_top t JOIN docs4_by_index i USING (op) ORDER BY op;
DROP VIEW docs4_top;
RESET enable_indexscan;
RESET quantvec.probes;
RESET quantvec.rescore_factor;
INSERT INTO docs4 SELECT id + 100000, e FROM docs4 WHERE id BETWEEN 1 AND 300;
DELETE FROM docs4 WHERE id % 5 = 0;
VACUUM docs4;
SELECT lists, indexed_rows, heap_rows FROM quantvec_index_check('docs4_cos');
SELECT lists, indexed_rows, heap_rows FROM quantvec_index_check('docs4_ip');
DROP TABLE docs4;
-- A label column: (e, label) filters inside the scan. With exhaustive settings a filtered
-- scan returns exactly the exact filtered ranking, for = v, = ANY(array), int2 and int8
-- values, a NULL and contradictory keys; rows with a NULL label match no filter.
CREATE TABLE tagged (id int, e int8vec(8), tag int);
INSERT INTO tagged SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.3), cos(i * 0.7), i % 5, 1, sin(i * 1.7), cos(i * 2.3)]::real[],
       CASE WHEN i % 11 = 0 THEN NULL ELSE i % 20 END
  FROM generate_series(1, 3000) i;
CREATE INDEX tagged_e ON tagged USING quantvec (e int8vec_cosine_ops, tag) WITH (lists = 30);
\d tagged
SELECT format_version, rows, labelled_rows = (SELECT count(tag) FROM tagged) AS labels_counted FROM quantvec_index_stats('tagged_e');
SELECT lists, indexed_rows, heap_rows FROM quantvec_index_check('tagged_e');
CREATE INDEX tagged_bad ON tagged USING quantvec (tag);
CREATE INDEX tagged_bad ON tagged USING quantvec (e, e);
CREATE INDEX tagged_bad ON tagged USING quantvec (e, tag, id);
CREATE INDEX tagged_bad ON tagged USING quantvec (e, (tag::float8));
SET quantvec.probes = 1000000;
SET quantvec.rescore_factor = 1000000;
CREATE TEMP VIEW tagged_top AS
  SELECT 'one' AS filter, array_agg(id) AS ids FROM (SELECT id FROM tagged WHERE tag = 7 ORDER BY e <=> '{1,2,3,4,5,6,7,8}'::real[], id LIMIT 10) s
  UNION ALL SELECT 'any', array_agg(id) FROM (SELECT id FROM tagged WHERE tag = ANY('{3,NULL,19}') ORDER BY e <=> '{1,2,3,4,5,6,7,8}'::real[], id LIMIT 10) s
  UNION ALL SELECT 'many', array_agg(id) FROM (SELECT id FROM tagged WHERE tag = ANY(ARRAY(SELECT generate_series(-40, 40, 3))) ORDER BY e <=> '{1,2,3,4,5,6,7,8}'::real[], id LIMIT 10) s
  UNION ALL SELECT 'int2', array_agg(id) FROM (SELECT id FROM tagged WHERE tag = 7::int2 ORDER BY e <=> '{1,2,3,4,5,6,7,8}'::real[], id LIMIT 10) s
  UNION ALL SELECT 'int8', array_agg(id) FROM (SELECT id FROM tagged WHERE tag IN (7::int8, 8, 5000000000) ORDER BY e <=> '{1,2,3,4,5,6,7,8}'::real[], id LIMIT 10) s
  UNION ALL SELECT 'both', array_agg(id) FROM (SELECT id FROM tagged WHERE tag IN (1, 2, 3) AND tag IN (3, 4) ORDER BY e <=> '{1,2,3,4,5,6,7,8}'::real[], id LIMIT 10) s
  UNION ALL SELECT 'none', array_agg(id) FROM (SELECT id FROM tagged WHERE tag = 1 AND tag = 2 ORDER BY e <=> '{1,2,3,4,5,6,7,8}'::real[], id LIMIT 10) s
  UNION ALL SELECT 'null', array_agg(id) FROM (SELECT id FROM tagged WHERE tag = NULL::int ORDER BY e <=> '{1,2,3,4,5,6,7,8}'::real[], id LIMIT 10) s;
SET enable_seqscan = off;
SET enable_sort = off;
-- (= ANY is an index condition of an ordered scan from PostgreSQL 17, a filter on its rows
-- before; the rows are the same.)
EXPLAIN (COSTS OFF) SELECT id FROM tagged WHERE tag = 7 ORDER BY e <=> '{1,2,3,4,5,6,7,8}'::real[] LIMIT 10;
CREATE TEMP TABLE tagged_by_index AS SELECT * FROM tagged_top;
-- Every filtered row, each once, and nothing else.
SELECT count(*), count(DISTINCT id), bool_and(tag = 7) FROM (SELECT id, tag FROM tagged WHERE tag = 7 ORDER BY e <=> '{1,2,3,4,5,6,7,8}'::real[]) s;
-- Without an ORDER BY the index returns its rows for the executor to check.
SELECT count(*) FROM tagged WHERE tag = 7;
RESET enable_seqscan;
RESET enable_sort;
SET enable_indexscan = off;
SELECT t.filter, t.ids = i.ids OR (t.ids IS NULL AND i.ids IS NULL) AS exact, cardinality(t.ids) AS rows
  FROM tagged_top t JOIN tagged_by_index i USING (filter) ORDER BY filter;
SELECT count(*) FROM tagged WHERE tag = 7;
RESET enable_indexscan;
DROP VIEW tagged_top;
RESET quantvec.probes;
RESET quantvec.rescore_factor;
-- Inserts, label changes, deletes and VACUUM keep each entry's label its row's.
INSERT INTO tagged SELECT id + 10000, e, 7 FROM tagged WHERE id <= 200;
UPDATE tagged SET tag = NULL WHERE id BETWEEN 10001 AND 10050;
UPDATE tagged SET tag = 8 WHERE id BETWEEN 10051 AND 10100;
DELETE FROM tagged WHERE id % 4 = 0;
VACUUM tagged;
SELECT lists, indexed_rows, heap_rows FROM quantvec_index_check('tagged_e');
SELECT rows = (SELECT count(e) FROM tagged) AS rows_counted, labelled_rows = (SELECT count(tag) FROM tagged WHERE e IS NOT NULL) AS labels_counted
  FROM quantvec_index_stats('tagged_e');
SET enable_seqscan = off;
SELECT count(*) = (SELECT count(*) FROM tagged WHERE tag = 7 AND e IS NOT NULL) AS all_rows
  FROM (SELECT id FROM tagged WHERE tag = 7 ORDER BY e <=> '{1,2,3,4,5,6,7,8}'::real[]) s;
RESET enable_seqscan;
-- Labels on bitvec and int4vec indexes.
CREATE TABLE tagged_bits AS SELECT id, e::bitvec(8) AS b, e::int4vec(8) AS e4, tag FROM tagged;
CREATE INDEX tagged_bits_b ON tagged_bits USING quantvec (b, tag) WITH (lists = 10);
CREATE INDEX tagged_bits_e4 ON tagged_bits USING quantvec (e4, tag) WITH (lists = 10, code_bits = 4);
SELECT lists, indexed_rows, heap_rows FROM quantvec_index_check('tagged_bits_b');
SELECT lists, indexed_rows, heap_rows FROM quantvec_index_check('tagged_bits_e4');
SET enable_seqscan = off;
SELECT count(*), bool_and(tag = 3) FROM (SELECT tag FROM tagged_bits WHERE tag = 3 ORDER BY b <~> '10101010'::bitvec) s;
SELECT count(*), bool_and(tag = 3) FROM (SELECT tag FROM tagged_bits WHERE tag = 3 ORDER BY e4 <-> '{1,2,3,4,5,6,7,8}'::real[]) s;
RESET enable_seqscan;
DROP TABLE tagged, tagged_bits;
-- Labels of other types, stored as their 32-bit hash: bigint (5 and 4294967300 share
-- hashint8's value), text, varchar (through text_label_ops) and uuid. With exhaustive
-- settings a filtered scan returns exactly the filtered ranking: the executor's recheck
-- drops rows whose label only shares the hash.
CREATE TABLE hashed (id int, e int8vec(8), b bigint, s text, v varchar(10), u uuid);
INSERT INTO hashed SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.3), cos(i * 0.7), i % 5, 1, sin(i * 1.7), cos(i * 2.3)]::real[],
       CASE WHEN i % 13 = 0 THEN NULL WHEN i % 2 = 0 THEN 5 ELSE 4294967300 + i % 3 END,
       CASE WHEN i % 17 = 0 THEN NULL ELSE 'cat' || (i % 40) END, 'v' || (i % 9), md5((i % 4)::text)::uuid
  FROM generate_series(1, 3000) i;
SELECT hashint8(5) = hashint8(4294967300) AS colliding;
CREATE INDEX hashed_b ON hashed USING quantvec (e int8vec_cosine_ops, b) WITH (lists = 20);
CREATE INDEX hashed_s ON hashed USING quantvec (e int8vec_l2_ops, s) WITH (lists = 20);
CREATE INDEX hashed_v ON hashed USING quantvec (e int8vec_ip_ops, v) WITH (lists = 20);
CREATE INDEX hashed_u ON hashed USING quantvec (e int8vec_cosine_ops, u) WITH (lists = 20);
\d hashed
SELECT indexrelid, rows, labelled_rows FROM quantvec_index_stats('hashed_b')
  UNION ALL SELECT indexrelid, rows, labelled_rows FROM quantvec_index_stats('hashed_s') ORDER BY 1;
SELECT lists, indexed_rows, heap_rows FROM quantvec_index_check('hashed_b');
SELECT lists, indexed_rows, heap_rows FROM quantvec_index_check('hashed_s');
SELECT lists, indexed_rows, heap_rows FROM quantvec_index_check('hashed_v');
SELECT lists, indexed_rows, heap_rows FROM quantvec_index_check('hashed_u');
SET quantvec.probes = 1000000;
SET quantvec.rescore_factor = 1000000;
CREATE TEMP VIEW hashed_top AS
  SELECT 'bigint' AS filter, array_agg(id) AS ids FROM (SELECT id FROM hashed WHERE b = 5 ORDER BY e <=> '{1,2,3,4,5,6,7,8}'::real[], id LIMIT 10) s
  UNION ALL SELECT 'int4 key', array_agg(id) FROM (SELECT id FROM hashed WHERE b = 5::int4 ORDER BY e <=> '{1,2,3,4,5,6,7,8}'::real[], id LIMIT 10) s
  UNION ALL SELECT 'past int4', array_agg(id) FROM (SELECT id FROM hashed WHERE b = 4294967301 ORDER BY e <=> '{1,2,3,4,5,6,7,8}'::real[], id LIMIT 10) s
  UNION ALL SELECT 'text', array_agg(id) FROM (SELECT id FROM hashed WHERE s = 'cat7' ORDER BY e <-> '{1,2,3,4,5,6,7,8}'::real[], id LIMIT 10) s
  UNION ALL SELECT 'text any', array_agg(id) FROM (SELECT id FROM hashed WHERE s = ANY(ARRAY(SELECT 'cat' || g FROM generate_series(3, 60, 2) g)) ORDER BY e <-> '{1,2,3,4,5,6,7,8}'::real[], id LIMIT 10) s
  UNION ALL SELECT 'text none', array_agg(id) FROM (SELECT id FROM hashed WHERE s = 'cat7' AND s = 'cat8' ORDER BY e <-> '{1,2,3,4,5,6,7,8}'::real[], id LIMIT 10) s
  UNION ALL SELECT 'varchar', array_agg(id) FROM (SELECT id FROM hashed WHERE v = 'v4' ORDER BY e <#> '{1,2,3,4,5,6,7,8}'::real[], id LIMIT 10) s
  UNION ALL SELECT 'uuid', array_agg(id) FROM (SELECT id FROM hashed WHERE u = md5('2')::uuid ORDER BY e <=> '{1,2,3,4,5,6,7,8}'::real[], id LIMIT 10) s;
SET enable_seqscan = off;
SET enable_sort = off;
EXPLAIN (COSTS OFF) SELECT id FROM hashed WHERE b = 5 ORDER BY e <=> '{1,2,3,4,5,6,7,8}'::real[] LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM hashed WHERE v = 'v4' ORDER BY e <#> '{1,2,3,4,5,6,7,8}'::real[] LIMIT 10;
CREATE TEMP TABLE hashed_by_index AS SELECT * FROM hashed_top;
-- Every filtered row once, the colliding ones among the rows the index returned.
SELECT count(*), count(DISTINCT id), bool_and(b = 5) FROM (SELECT id, b FROM hashed WHERE b = 5 ORDER BY e <=> '{1,2,3,4,5,6,7,8}'::real[]) s;
SELECT rows_returned > (SELECT count(*) FROM hashed WHERE b = 5) AS collisions_rechecked FROM quantvec_last_scan();
RESET enable_seqscan;
RESET enable_sort;
SET enable_indexscan = off;
SELECT t.filter, t.ids = i.ids OR (t.ids IS NULL AND i.ids IS NULL) AS exact, cardinality(t.ids) AS rows
  FROM hashed_top t JOIN hashed_by_index i USING (filter) ORDER BY filter;
RESET enable_indexscan;
RESET quantvec.probes;
RESET quantvec.rescore_factor;
DROP TABLE hashed CASCADE;
