-- int4vec: 4-bit codes (0..15) two per byte with a scale and zero-point (0..15).
-- Literals, exact round trips, typmods, bad input.
SELECT '(0.5,3)[1,15,0]'::int4vec;
SELECT ' ( 0.5 , 3 ) [ 1 , 2 , 3 ] '::int4vec;
SELECT '[0.1,-0.2,0.3]'::int4vec, '{0.1,-0.2,0.3}'::int4vec;
SELECT int4vec_send(v::text::int4vec) = int4vec_send(v) AS text_round_trip FROM (SELECT '(3e-5,7)[1,2,3]'::int4vec v) s;
SELECT int4vec_send('(0.25,7)[1,0,15]');
-- Stored: 8 header bytes and the codes two per byte (pg_column_size adds the 4-byte length).
SELECT pg_column_size('(1,0)[1,2,3]'::int4vec) AS three_dims, pg_column_size(array_fill(0.5, ARRAY[384])::real[]::int4vec) AS dims_384;
CREATE TABLE items (id int, embedding int4vec(3));
INSERT INTO items VALUES (1, '(0.5,0)[1,2,3]');
INSERT INTO items VALUES (2, '(0.5,0)[1,2]');
INSERT INTO items VALUES (3, '{0.1,0.2,0.3}'::real[]);
INSERT INTO items VALUES (4, '{0.1,-0.2,0.3}'::double precision[]);
INSERT INTO items VALUES (5, '{1,2,3}'::numeric[]);
SELECT id, embedding FROM items ORDER BY id;
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname = 'embedding';
CREATE TABLE bad1 (e int4vec(0));
CREATE TABLE bad2 (e int4vec(16001));
SELECT '(0.5)[1]'::int4vec;
SELECT '(0.5,0)[1,,2]'::int4vec;
SELECT '(0.5,0)[]'::int4vec;
SELECT '(NaN,0)[1]'::int4vec;
SELECT '(1,0)[16]'::int4vec;
SELECT '(1,0)[-1]'::int4vec;
SELECT '(1,16)[1]'::int4vec;
SELECT '[1,NaN]'::int4vec;
SELECT '{1,Infinity}'::real[]::int4vec;
SELECT '{}'::real[]::int4vec;

-- Binary I/O through COPY, and corrupt binary values.
COPY items TO '/tmp/quantvec_regress_int4.bin' (FORMAT binary);
CREATE TABLE items_copy (LIKE items);
COPY items_copy FROM '/tmp/quantvec_regress_int4.bin' (FORMAT binary);
SELECT count(*) AS identical FROM items i JOIN items_copy c USING (id) WHERE int4vec_send(i.embedding) = int4vec_send(c.embedding);
CREATE TABLE recv_buffer (v int4vec);
CREATE FUNCTION copy_in(payload bytea) RETURNS text AS $$
DECLARE
  lo oid := lo_from_bytea(0, '\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea
                             || '\x0001'::bytea || int4send(length(payload)) || payload || '\xffff'::bytea);
BEGIN
  PERFORM lo_export(lo, '/tmp/quantvec_regress_recv4.bin');
  PERFORM lo_unlink(lo);
  TRUNCATE recv_buffer;
  COPY recv_buffer FROM '/tmp/quantvec_regress_recv4.bin' (FORMAT binary);
  RETURN (SELECT v::text FROM recv_buffer);
END $$ LANGUAGE plpgsql;
-- dims 3, zero-point 8, reserved 0, scale 0.5, codes 1, 15 and 4 (+ a 0 pad nibble)
SELECT copy_in('\x000308003f000000f104');
SELECT copy_in('\x000308003f000000f1');        -- codes missing
SELECT copy_in('\x000308003f000000f10400');    -- one byte too many
SELECT copy_in('\x000308003f000000f114');      -- padding nibble set
SELECT copy_in('\x000310003f000000f104');      -- zero-point 16
SELECT copy_in('\x000308017f800000f104');      -- reserved byte set, infinite scale
SELECT copy_in('\x00');                        -- truncated header

-- Quantizers, accessors and calibration.
SELECT int4vec_quantize('{-1,0,0.5,1}'), int4vec_quantize_absmax('{-1,0,0.5,1}'),
       int4vec_quantize_clipped('{0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,100}', 0, 0.9), int4vec_quantize('{-1,0,0.5,1}', 0.25, 4);
SELECT int4vec_codes(v), int4vec_scale(v), int4vec_zero_point(v), dims(v), norm(v), v::real[]
  FROM (SELECT '(0.5,3)[1,15,0]'::int4vec v) s;
SELECT int4vec_from_codes('{0,15,7}'::smallint[], 0.5, 7), int4vec_from_codes('{0,15}'::int[], 0.5, 7);
SELECT int4vec_from_codes('{0,16}'::int[], 0.5, 7);
SELECT int4vec_quantize('{1,2}', 0.5, 16);
SELECT int4vec_calibrate(ARRAY[x, -2 * x]::real[]) AS minmax, int4vec_calibrate(ARRAY[x, -2 * x]::real[], 0.1, 0.9) AS clipped
  FROM generate_series(1, 10) x;
SELECT int4vec_quantize('{1,-3,20}', (SELECT int4vec_calibrate(ARRAY[x, -2 * x]::real[]) FROM generate_series(1, 10) x));
SELECT int4vec_calibrate(v) FROM (VALUES ('{1,2}'::real[]), ('{1,NaN}')) t(v);

-- Casts between the quantized types: int4vec -> int8vec is exact, int8vec -> int4vec requantizes.
SELECT v::int8vec, v::int8vec::real[] = v::real[] AS exact, v::bitvec FROM (SELECT '(0.5,3)[1,15,0,3]'::int4vec v) s;
SELECT '(1,0)[-128,0,127]'::int8vec::int4vec, '(1,0)[-128,0,127]'::int8vec::int4vec(3);
SELECT '(1,0)[-128,0,127]'::int8vec::int4vec(2);
CREATE TABLE widened (e int8vec(3));
INSERT INTO widened SELECT embedding FROM items WHERE id = 1;
SELECT e FROM widened;

-- Distances: exact integer arithmetic between two int4vec, a float query against one.
SELECT a <-> b AS l2, a <#> b AS neg_ip, a <=> b AS cosine, a <+> b AS l1, inner_product(a, b) AS ip
  FROM (SELECT '(0.5,3)[1,15,0]'::int4vec a, '(0.25,8)[3,9,15]'::int4vec b) s;
-- The same through real[]: equal up to the last digits (f32 sums).
SELECT round((a <-> b::real[])::numeric, 5) AS l2, round((a <#> b::real[])::numeric, 5) AS neg_ip, round((a <=> b::real[])::numeric, 5) AS cosine,
       round(inner_product(a, b::real[])::numeric, 5) AS ip
  FROM (SELECT '(0.5,3)[1,15,0]'::int4vec a, '(0.25,8)[3,9,15]'::int4vec b) s;
SELECT '(1,3)[3,3]'::int4vec <=> '(1,0)[1,2]'::int4vec AS zero_vector_is_nan;
SELECT '(1,0)[1,2]'::int4vec <-> '(1,0)[1,2,3]'::int4vec;
SELECT '(1,0)[1,2]'::int4vec <=> '{1,2,3}'::real[];
SELECT '(1,0)[1,2]'::int4vec <-> '{1,NaN}'::real[];
SELECT id FROM items ORDER BY embedding <-> '{0.1,0.2,0.3}'::real[], id LIMIT 3;

-- Equality: the same stored value; DISTINCT and GROUP BY hash on it.
SELECT '(0.5,1)[1,2]'::int4vec = '(0.5,1)[1,2]' AS same, '(0.5,1)[1,2]'::int4vec = '(0.5,0)[1,2]' AS other_zero,
       '(0.5,1)[1,2]'::int4vec <> '(0.5,1)[1,3]' AS differs, '(0.5,1)[1,2]'::int4vec = '(0.5,1)[1,2,0]' AS other_dims;
SELECT count(*) FROM (SELECT DISTINCT v FROM (VALUES ('(1,0)[1]'::int4vec), ('(1,0)[1]'), ('(1,0)[2]'), ('(2,0)[1]')) t(v)) d;
DROP TABLE items, items_copy, recv_buffer, widened;
DROP FUNCTION copy_in(bytea);
