-- int8vec literals: (scale,zero_point)[codes], exact round trips, typmods, bad input.
SELECT '(0.5,-3)[1,2,3]'::int8vec;
SELECT ' ( 0.5 , -3 ) [ 1 , -2 , 3 ] '::int8vec;
SELECT '(1e-7,0)[-128,127]'::int8vec;
SELECT '(0.0078125,0)[5]'::int8vec(1);
SELECT int8vec_send(v::text::int8vec) = int8vec_send(v) AS text_round_trip FROM (SELECT '(3e-5,17)[1,2,3]'::int8vec v) s;
SELECT int8vec_send('(0.25,-7)[1,-128,127]');

-- typmod
CREATE TABLE items (id int, embedding int8vec(3));
INSERT INTO items VALUES (1, '(0.5,0)[1,2,3]');
INSERT INTO items VALUES (2, '(0.5,0)[1,2]');
INSERT INTO items VALUES (3, '{0.1,0.2,0.3}'::real[]);
SELECT id, embedding FROM items ORDER BY id;
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname = 'embedding';
CREATE TABLE bad1 (e int8vec(0));
CREATE TABLE bad2 (e int8vec(16001));
CREATE TABLE bad3 (e int8vec(3, 4));
CREATE TABLE bad4 (e int8vec('x'));

-- malformed literals
SELECT '[1,2,3]'::int8vec;
SELECT '(0.5)[1]'::int8vec;
SELECT '(0.5,0)[1,,2]'::int8vec;
SELECT '(0.5,0)[1.5]'::int8vec;
SELECT '(0.5,0)[1] extra'::int8vec;
SELECT '(abc,0)[1]'::int8vec;
SELECT '(0.5,0)[]'::int8vec;
SELECT '(NaN,0)[1]'::int8vec;
SELECT '(-1,0)[1]'::int8vec;
SELECT '(Infinity,0)[1]'::int8vec;
SELECT '(1,0)[128]'::int8vec;
SELECT '(1,200)[1]'::int8vec;

-- binary I/O through COPY, and corrupt binary values
COPY items TO '/tmp/quantvec_regress_items.bin' (FORMAT binary);
CREATE TABLE items_copy (LIKE items);
COPY items_copy FROM '/tmp/quantvec_regress_items.bin' (FORMAT binary);
SELECT count(*) AS identical FROM items i JOIN items_copy c USING (id)
 WHERE int8vec_send(i.embedding) = int8vec_send(c.embedding);

-- Raw bytes as a client would send them in a binary COPY.
CREATE TABLE recv_buffer (v int8vec);
CREATE FUNCTION copy_in(payload bytea) RETURNS text AS $$
DECLARE
  lo oid := lo_from_bytea(0, '\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea
                             || '\x0001'::bytea || int4send(length(payload)) || payload || '\xffff'::bytea);
BEGIN
  PERFORM lo_export(lo, '/tmp/quantvec_regress_recv.bin');
  PERFORM lo_unlink(lo);
  TRUNCATE recv_buffer;
  COPY recv_buffer FROM '/tmp/quantvec_regress_recv.bin' (FORMAT binary);
  RETURN (SELECT v::text FROM recv_buffer);
END $$ LANGUAGE plpgsql;
-- dims 2, zero-point -1, reserved 0, scale 0.5, codes 3 and -4
SELECT copy_in('\x0002ff003f00000003fc');
SELECT copy_in('\x0002ff003f000000');          -- codes missing
SELECT copy_in('\x0002ff003f00000003fc00');    -- one byte too many
SELECT copy_in('\x0000ff003f000000');          -- zero dimensions
SELECT copy_in('\x0002ff017f80000003fc');      -- reserved byte set, infinite scale
SELECT copy_in('\x0002ff007fc0000003fc');      -- NaN scale
SELECT copy_in('\x0002ff00bf00000003fc');      -- negative scale
SELECT copy_in('\x00');                        -- truncated header

-- Equality: the same stored value; DISTINCT and GROUP BY hash on it.
SELECT '(0.5,1)[1,2]'::int8vec = '(0.5,1)[1,2]' AS same, '(0.5,1)[1,2]'::int8vec = '(0.5,0)[1,2]' AS other_zero,
       '(0.5,1)[1,2]'::int8vec <> '(0.5,1)[1,3]' AS differs, '101'::bitvec = '101' AS bits_same, '101'::bitvec <> '100' AS bits_differ;
SELECT count(*) FROM (SELECT DISTINCT v FROM (VALUES ('(1,0)[1]'::int8vec), ('(1,0)[1]'), ('(1,0)[2]'), ('(2,0)[1]')) t(v)) d;
SELECT v::text, count(*) FROM (VALUES ('10'::bitvec), ('10'), ('01')) t(v) GROUP BY v ORDER BY 1;
