CREATE TYPE bitvec (
    INPUT = bitvec_in,
    OUTPUT = bitvec_out,
    RECEIVE = bitvec_recv,
    SEND = bitvec_send,
    TYPMOD_IN = bitvec_typmod_in,
    TYPMOD_OUT = bitvec_typmod_out,
    INTERNALLENGTH = VARIABLE,
    STORAGE = external,
    ALIGNMENT = int4
);
COMMENT ON TYPE bitvec IS 'binary-quantized vector: one bit per dimension';
