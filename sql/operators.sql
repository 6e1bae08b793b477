-- The distance functions (src/distances.rs). Their symbols keep the names pgrx gave them
-- when it generated these declarations, which the catalogs of earlier versions name.

CREATE FUNCTION l2_distance(a int8vec, b int8vec) RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'int8vec_l2_distance_wrapper';
CREATE FUNCTION inner_product(a int8vec, b int8vec) RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'int8vec_inner_product_wrapper';
CREATE FUNCTION int8vec_negative_inner_product(a int8vec, b int8vec) RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'int8vec_negative_inner_product_wrapper';
CREATE FUNCTION cosine_distance(a int8vec, b int8vec) RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'int8vec_cosine_distance_wrapper';
CREATE FUNCTION l1_distance(a int8vec, b int8vec) RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'int8vec_l1_distance_wrapper';
CREATE FUNCTION l2_distance(a int8vec, x real[]) RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'int8vec_real_l2_distance_wrapper';
CREATE FUNCTION inner_product(a int8vec, x real[]) RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'int8vec_real_inner_product_wrapper';
CREATE FUNCTION int8vec_negative_inner_product(a int8vec, x real[]) RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'int8vec_real_negative_inner_product_wrapper';
CREATE FUNCTION cosine_distance(a int8vec, x real[]) RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'int8vec_real_cosine_distance_wrapper';
CREATE FUNCTION l2_distance(a int4vec, b int4vec) RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'int4vec_l2_distance_wrapper';
CREATE FUNCTION inner_product(a int4vec, b int4vec) RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'int4vec_inner_product_wrapper';
CREATE FUNCTION int4vec_negative_inner_product(a int4vec, b int4vec) RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'int4vec_negative_inner_product_wrapper';
CREATE FUNCTION cosine_distance(a int4vec, b int4vec) RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'int4vec_cosine_distance_wrapper';
CREATE FUNCTION l1_distance(a int4vec, b int4vec) RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'int4vec_l1_distance_wrapper';
CREATE FUNCTION l2_distance(a int4vec, x real[]) RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'int4vec_real_l2_distance_wrapper';
CREATE FUNCTION inner_product(a int4vec, x real[]) RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'int4vec_real_inner_product_wrapper';
CREATE FUNCTION int4vec_negative_inner_product(a int4vec, x real[]) RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'int4vec_real_negative_inner_product_wrapper';
CREATE FUNCTION cosine_distance(a int4vec, x real[]) RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'int4vec_real_cosine_distance_wrapper';
CREATE FUNCTION l2_distance(a real[], b real[]) RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'real_l2_distance_wrapper';
CREATE FUNCTION inner_product(a real[], b real[]) RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'real_inner_product_wrapper';
CREATE FUNCTION cosine_distance(a real[], b real[]) RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'real_cosine_distance_wrapper';
CREATE FUNCTION hamming_distance(a bitvec, b bitvec) RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'bitvec_hamming_distance_wrapper';
CREATE FUNCTION jaccard_distance(a bitvec, b bitvec) RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'bitvec_jaccard_distance_wrapper';
CREATE FUNCTION inner_product(a bitvec, x real[]) RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'bitvec_real_inner_product_wrapper';
CREATE FUNCTION bitvec_negative_inner_product(a bitvec, x real[]) RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'bitvec_negative_inner_product_wrapper';
CREATE FUNCTION cosine_distance(a bitvec, x real[]) RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'bitvec_real_cosine_distance_wrapper';

-- Distance operators. Symmetric ones are their own commutators; the asymmetric ones take a
-- full-precision real[] query on the right.

CREATE OPERATOR <-> (LEFTARG = int8vec, RIGHTARG = int8vec, FUNCTION = l2_distance, COMMUTATOR = '<->');
CREATE OPERATOR <#> (LEFTARG = int8vec, RIGHTARG = int8vec, FUNCTION = int8vec_negative_inner_product, COMMUTATOR = '<#>');
CREATE OPERATOR <=> (LEFTARG = int8vec, RIGHTARG = int8vec, FUNCTION = cosine_distance, COMMUTATOR = '<=>');
CREATE OPERATOR <+> (LEFTARG = int8vec, RIGHTARG = int8vec, FUNCTION = l1_distance, COMMUTATOR = '<+>');

CREATE OPERATOR <-> (LEFTARG = int8vec, RIGHTARG = real[], FUNCTION = l2_distance);
CREATE OPERATOR <#> (LEFTARG = int8vec, RIGHTARG = real[], FUNCTION = int8vec_negative_inner_product);
CREATE OPERATOR <=> (LEFTARG = int8vec, RIGHTARG = real[], FUNCTION = cosine_distance);

CREATE OPERATOR <-> (LEFTARG = int4vec, RIGHTARG = int4vec, FUNCTION = l2_distance, COMMUTATOR = '<->');
CREATE OPERATOR <#> (LEFTARG = int4vec, RIGHTARG = int4vec, FUNCTION = int4vec_negative_inner_product, COMMUTATOR = '<#>');
CREATE OPERATOR <=> (LEFTARG = int4vec, RIGHTARG = int4vec, FUNCTION = cosine_distance, COMMUTATOR = '<=>');
CREATE OPERATOR <+> (LEFTARG = int4vec, RIGHTARG = int4vec, FUNCTION = l1_distance, COMMUTATOR = '<+>');

CREATE OPERATOR <-> (LEFTARG = int4vec, RIGHTARG = real[], FUNCTION = l2_distance);
CREATE OPERATOR <#> (LEFTARG = int4vec, RIGHTARG = real[], FUNCTION = int4vec_negative_inner_product);
CREATE OPERATOR <=> (LEFTARG = int4vec, RIGHTARG = real[], FUNCTION = cosine_distance);

CREATE OPERATOR <~> (LEFTARG = bitvec, RIGHTARG = bitvec, FUNCTION = hamming_distance, COMMUTATOR = '<~>');
CREATE OPERATOR <%> (LEFTARG = bitvec, RIGHTARG = bitvec, FUNCTION = jaccard_distance, COMMUTATOR = '<%>');
CREATE OPERATOR <#> (LEFTARG = bitvec, RIGHTARG = real[], FUNCTION = bitvec_negative_inner_product);
CREATE OPERATOR <=> (LEFTARG = bitvec, RIGHTARG = real[], FUNCTION = cosine_distance);
