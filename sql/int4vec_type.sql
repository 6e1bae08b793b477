CREATE TYPE int4vec (
    INPUT = int4vec_in,
    OUTPUT = int4vec_out,
    RECEIVE = int4vec_recv,
    SEND = int4vec_send,
    TYPMOD_IN = int4vec_typmod_in,
    TYPMOD_OUT = int4vec_typmod_out,
    INTERNALLENGTH = VARIABLE,
    -- Codes barely compress; keep them uncompressed (large values still go out of line).
    STORAGE = external,
    -- Variable-length types start with a 4-byte length word.
    ALIGNMENT = int4
);
COMMENT ON TYPE int4vec IS '4-bit-quantized vector: codes q in 0..15 (two per byte) with scale s and zero-point z, f ≈ s·(q − z)';
