-- Shell types: the I/O functions that the full definitions (int8vec_type.sql, int4vec_type.sql,
-- bitvec_type.sql) name must exist first, and they take or return these types.
CREATE TYPE int8vec;
CREATE TYPE bitvec;
CREATE TYPE int4vec;

-- What column-level calibration returns and int8vec_quantize accepts.
CREATE TYPE int8vec_params AS (scale real, zero_point smallint);
COMMENT ON TYPE int8vec_params IS 'shared int8vec quantization parameters: f ≈ scale·(q − zero_point)';

-- What 4-bit column calibration returns and int4vec_quantize accepts.
CREATE TYPE int4vec_params AS (scale real, zero_point smallint);
COMMENT ON TYPE int4vec_params IS 'shared int4vec quantization parameters: f ≈ scale·(q − zero_point), q and zero_point in 0..15';
