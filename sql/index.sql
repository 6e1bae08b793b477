-- The index access method and its operator classes: L2, inner product and cosine on
-- int8vec (queried with an int8vec or a real[]), Hamming on bitvec. L2 and Hamming are
-- the defaults, as in pgvector.
CREATE ACCESS METHOD quantvec TYPE INDEX HANDLER quantvec_amhandler;
COMMENT ON ACCESS METHOD quantvec IS 'inverted lists over binary codes with int8 rescoring';

CREATE OPERATOR CLASS int8vec_l2_ops DEFAULT FOR TYPE int8vec USING quantvec AS
    OPERATOR 1 <-> (int8vec, int8vec) FOR ORDER BY float_ops,
    OPERATOR 2 <-> (int8vec, real[]) FOR ORDER BY float_ops,
    FUNCTION 1 (int8vec, int8vec) quantvec_metric_l2();

CREATE OPERATOR CLASS int8vec_ip_ops FOR TYPE int8vec USING quantvec AS
    OPERATOR 1 <#> (int8vec, int8vec) FOR ORDER BY float_ops,
    OPERATOR 2 <#> (int8vec, real[]) FOR ORDER BY float_ops,
    FUNCTION 1 (int8vec, int8vec) quantvec_metric_inner_product();

CREATE OPERATOR CLASS int8vec_cosine_ops FOR TYPE int8vec USING quantvec AS
    OPERATOR 1 <=> (int8vec, int8vec) FOR ORDER BY float_ops,
    OPERATOR 2 <=> (int8vec, real[]) FOR ORDER BY float_ops,
    FUNCTION 1 (int8vec, int8vec) quantvec_metric_cosine();

CREATE OPERATOR CLASS bitvec_hamming_ops DEFAULT FOR TYPE bitvec USING quantvec AS
    OPERATOR 1 <~> (bitvec, bitvec) FOR ORDER BY float_ops,
    FUNCTION 1 (bitvec, bitvec) quantvec_metric_hamming();
