-- Shell types: the I/O functions that the full definitions (int8vec_type.sql,
-- bitvec_type.sql) name must exist first, and they take or return these types.
CREATE TYPE int8vec;
CREATE TYPE bitvec;

-- What column-level calibration returns and int8vec_quantize accepts.
CREATE TYPE int8vec_params AS (scale real, zero_point smallint);
COMMENT ON TYPE int8vec_params IS 'shared int8vec quantization parameters: f ≈ scale·(q − zero_point)';
