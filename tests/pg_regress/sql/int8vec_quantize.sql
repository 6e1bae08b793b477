-- Quantization: casts from float arrays, explicit quantizers, calibration, codes, migration.
SELECT '{0.1,-0.2,0.3}'::real[]::int8vec;
SELECT '{0.1,-0.2,0.3}'::float8[]::int8vec;
SELECT '{0.1,-0.2,0.3}'::numeric[]::int8vec;
SELECT ARRAY[1.5, -2.25]::int8vec AS from_numeric_literal;
SELECT '{0.1,-0.2,0.3}'::real[]::int8vec::real[] AS dequantized;
SELECT '{10,11}'::real[]::int8vec AS positive_range_keeps_zero;
SELECT '{0,0,0}'::real[]::int8vec AS all_zero;
SELECT int8vec_quantize('{0.1,-0.2,0.3}');
SELECT int8vec_quantize_absmax('{0.1,-0.2,0.3}');
SELECT int8vec_quantize('{0.1,-0.2,0.3}', 0.01, 0);
SELECT int8vec_quantize('{0.1,-0.2,5}', 0.01, 0) AS clamped;
-- An outlier stretches min/max quantization; clipping at quantiles keeps the resolution.
SELECT int8vec_scale(int8vec_quantize(v)) AS minmax_scale,
       int8vec_scale(int8vec_quantize_clipped(v, 0.0, 0.95)) AS clipped_scale
  FROM (SELECT array_append(array_agg(i / 100.0)::real[], 100) v FROM generate_series(0, 99) i) s;
SELECT int8vec_from_codes('{1,-2,3}'::integer[], 0.5, 1);
SELECT int8vec_from_codes('{-128,127}'::smallint[], 0.25, 0);
SELECT int8vec_codes(v), int8vec_scale(v), int8vec_zero_point(v), dims(v), norm(v)
  FROM (SELECT '(0.5,1)[1,-2,3]'::int8vec v) s;

-- bad input
SELECT '{1,NaN}'::real[]::int8vec;
SELECT '{Infinity}'::real[]::int8vec;
SELECT '{-Infinity}'::float8[]::int8vec;
SELECT '{}'::real[]::int8vec;
SELECT '{{1,2},{3,4}}'::real[]::int8vec;
SELECT '{1,NULL}'::real[]::int8vec;
SELECT '{1e300}'::float8[]::int8vec;
SELECT array_fill(0.5::real, ARRAY[16001])::int8vec;
SELECT dims(array_fill(0.5::real, ARRAY[16000])::int8vec);
SELECT int8vec_from_codes('{300}'::integer[], 1, 0);
SELECT int8vec_from_codes('{1}'::integer[], 1, 128);
SELECT int8vec_quantize('{1}', 0, 0);
SELECT int8vec_quantize('{1}', 'NaN', 0);
SELECT int8vec_quantize_clipped('{1,2}', 0.9, 0.1);
SELECT int8vec_quantize_clipped('{1,2}', -0.1, 0.5);

-- Column-level calibration: one shared (scale, zero_point) for a column.
CREATE TABLE floats AS
  SELECT i AS id, ARRAY[sin(i), cos(i), sin(2 * i) / 2]::real[] AS e FROM generate_series(1, 1000) i;
SELECT (int8vec_calibrate(e)).* FROM floats;
SELECT (int8vec_calibrate(e, 0.01, 0.99)).* FROM floats;
SELECT int8vec_calibrate(e) IS NULL AS no_rows FROM floats WHERE false;
SELECT int8vec_calibrate(e, 0.9, 0.1) FROM floats;
CREATE TABLE shared_codes AS
  SELECT id, int8vec_quantize(e, p) AS q FROM floats, (SELECT int8vec_calibrate(e) p FROM floats) c;
SELECT count(DISTINCT (int8vec_scale(q), int8vec_zero_point(q))) AS parameter_sets FROM shared_codes;
SELECT dimension_means(e) FROM floats WHERE id <= 2;
SELECT dimension_means(e) FROM (VALUES ('{1,2}'::real[]), ('{1,2,3}')) t(e);

-- Migrating a float column in place (pgvector users: USING embedding::real[]::int8vec(3)).
CREATE TABLE docs (id int PRIMARY KEY, embedding real[]);
INSERT INTO docs VALUES (1, '{0.5,-0.25,0.125}'), (2, '{1,2,3}'), (3, NULL);
ALTER TABLE docs ALTER COLUMN embedding TYPE int8vec(3) USING embedding::int8vec(3);
SELECT id, embedding FROM docs ORDER BY id;
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'docs'::regclass AND attname = 'embedding';
-- Float literals quantize on input, in pgvector's form or an array's.
INSERT INTO docs VALUES (4, '[0.1,0.2,0.3]'), (5, '{0.1,0.2,0.3}');
INSERT INTO docs VALUES (6, '{0.1,0.2}');
SELECT id, embedding FROM docs WHERE id >= 4 ORDER BY id;
-- A column with a wrong-length row fails as a whole and stays as it was.
CREATE TABLE docs2 (id int, embedding real[]);
INSERT INTO docs2 VALUES (1, '{1,2,3}'), (2, '{1,2}');
ALTER TABLE docs2 ALTER COLUMN embedding TYPE int8vec(3) USING embedding::int8vec(3);
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'docs2'::regclass AND attname = 'embedding';
