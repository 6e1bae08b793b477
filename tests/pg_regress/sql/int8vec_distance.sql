-- Distances between int8vec values, and between int8vec codes and a real[] query.
-- Symmetric distances are computed in integers (exact on every kernel set); asymmetric ones
-- use f32 kernels, so they are shown rounded.
CREATE TABLE v (id int, e int8vec(3));
INSERT INTO v VALUES
  (1, '(0.5,0)[2,0,0]'),        -- (1, 0, 0)
  (2, '(0.25,0)[0,4,0]'),       -- (0, 1, 0)
  (3, '(1,-1)[0,-1,1]'),        -- (1, 0, 2)
  (4, '(0.1,0)[-10,-10,-10]');  -- (-1, -1, -1)
SELECT a.id, b.id, a.e <-> b.e AS l2, a.e <#> b.e AS neg_ip, round((a.e <=> b.e)::numeric, 6) AS cosine, a.e <+> b.e AS l1
  FROM v a, v b WHERE a.id < b.id ORDER BY 1, 2;
SELECT l2_distance(a.e, b.e), inner_product(a.e, b.e), cosine_distance(a.e, b.e), l1_distance(a.e, b.e)
  FROM v a, v b WHERE a.id = 1 AND b.id = 3;
-- The same vectors with a float query.
SELECT id, round((e <-> '{1,0,2}'::real[])::numeric, 5) AS l2,
       round((e <#> '{1,0,2}'::real[])::numeric, 5) AS neg_ip,
       round((e <=> '{1,0,2}'::real[])::numeric, 5) AS cosine
  FROM v ORDER BY id;
SELECT id FROM v ORDER BY e <=> '{1,0,2}'::real[] LIMIT 2;
-- A query is prepared once per call site. Where it changes from row to row (a join), each
-- row is measured against its own: queries 1 and 3 give the distances above, query 2 others.
SELECT q.qid, v.id, round((v.e <-> q.x)::numeric, 5) AS l2, round((v.e <=> q.x)::numeric, 5) AS cosine
  FROM (VALUES (1, '{1,0,2}'::real[]), (2, '{0,1,0}'), (3, '{1,0,2}')) q(qid, x), v
 ORDER BY 1, 2;
-- A parameter is read once per execution; each execution of a generic plan has its own.
SET plan_cache_mode = force_generic_plan;
PREPARE nearest(real[]) AS SELECT array_agg(id) FROM (SELECT id FROM v ORDER BY e <=> $1 LIMIT 2) s;
EXECUTE nearest('{1,0,2}');
EXECUTE nearest('{0,1,0}');
EXECUTE nearest('{-1,-2,-1}');
SELECT generic_plans FROM pg_prepared_statements WHERE name = 'nearest';
DEALLOCATE nearest;
RESET plan_cache_mode;
SELECT id FROM v ORDER BY e <-> '(1,0)[1,0,0]' LIMIT 2;
-- Zero vectors have no direction: cosine distance is NaN and sorts last.
SELECT '(1,0)[0,0,0]'::int8vec <=> '(1,0)[1,2,3]';
SELECT dims(e), round(norm(e)::numeric, 6) FROM v ORDER BY id;
-- Dimension mismatches and bad queries.
SELECT '(1,0)[1,2]'::int8vec <-> '(1,0)[1,2,3]';
SELECT '(1,0)[1,2]'::int8vec <=> '{1,2,3}'::real[];
SELECT '(1,0)[1,2]'::int8vec <#> '{1,NaN}'::real[];
SELECT '(1,0)[1,2]'::int8vec <-> NULL::real[] IS NULL AS null_query;
-- Every kernel set gives the same symmetric results.
SELECT quantvec_simd() IN ('scalar', 'avx2', 'avx512', 'neon') AS known_kernel_set;
CREATE TABLE best AS SELECT a.id AS a, b.id AS b, a.e <-> b.e AS l2, a.e <#> b.e AS ip, a.e <=> b.e AS cos FROM v a, v b;
SET quantvec.simd = 'scalar';
SELECT quantvec_simd();
SELECT count(*) AS differing FROM best, v a, v b
 WHERE a.id = best.a AND b.id = best.b AND (a.e <-> b.e, a.e <#> b.e, a.e <=> b.e) IS DISTINCT FROM (l2, ip, cos);
RESET quantvec.simd;
SET quantvec.simd = 'no_such_kernels';
-- Exact float distances between real[] values, the reference for judging quantized search.
SELECT l2_distance('{0,0}'::real[], '{3,4}'::real[]), inner_product('{1,2}'::real[], '{3,-1}'::real[]),
       cosine_distance('{1,0}'::real[], '{0,2}'::real[]);
SELECT cosine_distance('{1,0}'::real[], '{1}'::real[]);
-- Values are read where they lie unless toasted: short values (1-byte headers), plain,
-- compressed and out-of-line ones give the same distances as the same values in memory.
CREATE TABLE forms (form text, e int8vec, b bitvec, r real[]);
ALTER TABLE forms ALTER COLUMN e SET STORAGE external, ALTER COLUMN b SET STORAGE external,
  ALTER COLUMN r SET STORAGE external;
INSERT INTO forms SELECT 'external', array_fill(0.5::real, ARRAY[3000])::int8vec,
  bitvec_quantize(array_fill(0.5::real, ARRAY[3000])), array_fill(0.5::real, ARRAY[3000]);
ALTER TABLE forms ALTER COLUMN e SET STORAGE main, ALTER COLUMN b SET STORAGE main,
  ALTER COLUMN r SET STORAGE main;
INSERT INTO forms SELECT 'compressed', e, b, r FROM forms;
INSERT INTO forms VALUES ('short', '(1,0)[1,2,3]', '101', '{1,2,3}'),
  ('plain', array_fill(0.25::real, ARRAY[200])::int8vec, bitvec_quantize(array_fill(0.25::real, ARRAY[200])),
   array_fill(0.25::real, ARRAY[200]));
SELECT form, pg_column_compression(e) AS e_compression, pg_column_compression(r) AS r_compression,
       dims(e), dims(b) FROM forms ORDER BY form;
SELECT form, e <=> e::text::int8vec AS e_self, b <~> b::text::bitvec AS b_self,
       e <-> r < 1e-5 AS e_near_r, round(cosine_distance(r, r::text::real[])::numeric, 9) AS r_self, bitvec_count(b) AS bits
  FROM forms ORDER BY form;
