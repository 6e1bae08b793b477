-- bitvec: literals, conversions, Hamming/Jaccard and the float-query estimate.
SELECT '10110'::bitvec, '10110'::bitvec(5), dims('10110'::bitvec), bitvec_count('10110');
SELECT bitvec_send('101100001');
SELECT '10110'::bitvec(4);
SELECT '10120'::bitvec;
SELECT ''::bitvec;
SELECT repeat('1', 64001)::bitvec;
SELECT dims(repeat('1', 64000)::bitvec);
CREATE TABLE b (id int, v bitvec(4));
INSERT INTO b VALUES (1, '1100'), (2, '1010'), (3, '0000'), (4, '1111');
INSERT INTO b VALUES (5, '111');
SELECT x.id, y.id, x.v <~> y.v AS hamming, round((x.v <%> y.v)::numeric, 4) AS jaccard
  FROM b x, b y WHERE x.id < y.id ORDER BY 1, 2;
SELECT hamming_distance('1100', '0011'), jaccard_distance('0000', '0000');
SELECT '1100'::bitvec <~> '110';

-- From floats (sign, thresholds), int8vec, packed bytes, bit/varbit.
SELECT bitvec_quantize('{0.5,-1,0,2}');
SELECT bitvec_quantize('{0.5,-1,0,2}', '{0.6,-2,-1,2}');
SELECT bitvec_quantize('{0.5,-1}', '{0}');
SELECT '(1,-3)[-3,-2,-4,5]'::int8vec::bitvec;
SELECT bitvec_from_bytes('\xa0', 3), bitvec_to_bytes('101'), bitvec_from_bytes('\xff01', 16);
SELECT bitvec_from_bytes('\xa1', 3);
SELECT bitvec_from_bytes('\xa0a0', 3);
SELECT B'10110'::bitvec, '10110'::varbit::bitvec, '10110'::bitvec::varbit, '10110'::bitvec::bit(5);
SELECT bitvec_quantize(e) AS signs FROM (VALUES ('{1,-1,1}'::real[])) t(e);
-- real[] casts to bitvec(n) as it does to int8vec(n): sign quantization, on assignment too.
SELECT '{0.5,-1,0,2}'::real[]::bitvec, '{0.5,-1,0,2}'::real[]::bitvec(4);
SELECT '{0.5,-1,0,2}'::real[]::bitvec(3);
CREATE TABLE signs (b bitvec(3));
INSERT INTO signs VALUES ('{1,-1,1}'::real[]);
INSERT INTO signs SELECT ARRAY[-1, 1, 1]::real[];
SELECT b FROM signs;
INSERT INTO signs VALUES ('{1,NaN,1}'::real[]);
DROP TABLE signs;
CREATE TABLE floats (f real[]);
INSERT INTO floats VALUES ('{1,-1,1}'), ('{-1,-1,2}');
ALTER TABLE floats ALTER COLUMN f TYPE bitvec(3);
SELECT f FROM floats;
DROP TABLE floats;
-- Centering on the column means (from the dimension_means aggregate) before taking signs.
CREATE TABLE pts (id int, e real[]);
INSERT INTO pts VALUES (1, '{1,10}'), (2, '{3,20}'), (3, '{2,16}');
WITH m AS (SELECT dimension_means(e) AS means FROM pts)
SELECT id, means, bitvec_quantize(e) AS signs, bitvec_quantize(e, means) AS centered FROM pts, m ORDER BY id;

-- A float query against bits: the bitvec stands for ±1 per dimension.
SELECT inner_product('1100'::bitvec, '{0.5,0.25,1,-1}'::real[]) AS ip,
       '1100'::bitvec <#> '{0.5,0.25,1,-1}'::real[] AS neg_ip,
       round(('1100'::bitvec <=> '{0.5,0.25,1,-1}'::real[])::numeric, 6) AS cosine;
SELECT id FROM b ORDER BY v <#> '{1,1,-1,-1}'::real[], id LIMIT 2;
SELECT '1100'::bitvec <=> '{0,0,0,0}'::real[] AS zero_query;
SELECT '1100'::bitvec <#> '{1,2}'::real[];

-- Binary I/O through COPY.
COPY b TO '/tmp/quantvec_regress_bits.bin' (FORMAT binary);
CREATE TABLE b2 (LIKE b);
COPY b2 FROM '/tmp/quantvec_regress_bits.bin' (FORMAT binary);
SELECT count(*) AS identical FROM b JOIN b2 USING (id) WHERE bitvec_send(b.v) = bitvec_send(b2.v);
