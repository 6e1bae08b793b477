CREATE TYPE int8vec (
    INPUT = int8vec_in,
    OUTPUT = int8vec_out,
    RECEIVE = int8vec_recv,
    SEND = int8vec_send,
    TYPMOD_IN = int8vec_typmod_in,
    TYPMOD_OUT = int8vec_typmod_out,
    INTERNALLENGTH = VARIABLE,
    -- Codes barely compress; keep them uncompressed (large values still go out of line).
    STORAGE = external,
    -- Variable-length types start with a 4-byte length word.
    ALIGNMENT = int4
);
COMMENT ON TYPE int8vec IS 'int8-quantized vector: codes q with scale s and zero-point z, f ≈ s·(q − z)';
