-- quantvec_pgvector 1.0: pgvector's vector and halfvec cast to int8vec(n) and bitvec(n) on
-- assignment, as real[] does (per-vector min/max and sign quantization), and int8vec casts
-- to vector (dequantization); the distances between int8vec and a vector query, in the
-- quantvec index's operator families beside the real[] ones. The schemas of quantvec and
-- pgvector are on the search_path while this runs, as for any extension that requires others.
\echo Use "CREATE EXTENSION quantvec_pgvector" to load this file. \quit

DO $$
BEGIN
    IF pg_catalog.to_regtype('halfvec') IS NULL THEN
        RAISE EXCEPTION 'quantvec_pgvector needs pgvector 0.7.0 or later (installed: %)',
            (SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'vector')
            USING HINT = 'ALTER EXTENSION vector UPDATE, then CREATE EXTENSION quantvec_pgvector.';
    END IF;
END
$$;

CREATE FUNCTION int8vec_from_vector(vector, integer, boolean) RETURNS int8vec
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'int8vec_from_pgvector_wrapper';
CREATE FUNCTION int8vec_from_halfvec(halfvec, integer, boolean) RETURNS int8vec
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'int8vec_from_pghalfvec_wrapper';
CREATE FUNCTION bitvec_from_vector(vector, integer, boolean) RETURNS bitvec
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'bitvec_from_pgvector_wrapper';
CREATE FUNCTION bitvec_from_halfvec(halfvec, integer, boolean) RETURNS bitvec
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'bitvec_from_pghalfvec_wrapper';
CREATE FUNCTION vector_from_int8vec(int8vec) RETURNS vector
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'pgvector_from_int8vec_wrapper';

-- Assignment casts, not implicit ones: an implicit vector -> int8vec cast would make
-- "int8vec <=> vector" ambiguous between the int8vec and the real[] operators, where today
-- pgvector's implicit vector -> real[] cast takes such a query to the real[] operator and
-- the index.
CREATE CAST (vector AS int8vec) WITH FUNCTION int8vec_from_vector(vector, integer, boolean) AS ASSIGNMENT;
CREATE CAST (halfvec AS int8vec) WITH FUNCTION int8vec_from_halfvec(halfvec, integer, boolean) AS ASSIGNMENT;
CREATE CAST (vector AS bitvec) WITH FUNCTION bitvec_from_vector(vector, integer, boolean) AS ASSIGNMENT;
CREATE CAST (halfvec AS bitvec) WITH FUNCTION bitvec_from_halfvec(halfvec, integer, boolean) AS ASSIGNMENT;
CREATE CAST (int8vec AS vector) WITH FUNCTION vector_from_int8vec(int8vec);

-- int8vec <op> vector, as int8vec <op> real[] (the vector query at full precision). Without
-- them a vector query reaches the real[] operators through pgvector's implicit cast, which
-- converts it to a real[] at every execution.
CREATE FUNCTION l2_distance(int8vec, vector) RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'int8vec_pgvector_l2_distance_wrapper';
CREATE FUNCTION int8vec_negative_inner_product(int8vec, vector) RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'int8vec_pgvector_negative_inner_product_wrapper';
CREATE FUNCTION cosine_distance(int8vec, vector) RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'int8vec_pgvector_cosine_distance_wrapper';
CREATE OPERATOR <-> (LEFTARG = int8vec, RIGHTARG = vector, FUNCTION = l2_distance);
CREATE OPERATOR <#> (LEFTARG = int8vec, RIGHTARG = vector, FUNCTION = int8vec_negative_inner_product);
CREATE OPERATOR <=> (LEFTARG = int8vec, RIGHTARG = vector, FUNCTION = cosine_distance);
-- Strategy 3 of each int8vec family: the index reads the vector as it reads a real[] query.
ALTER OPERATOR FAMILY int8vec_l2_ops USING quantvec ADD OPERATOR 3 <-> (int8vec, vector) FOR ORDER BY float_ops;
ALTER OPERATOR FAMILY int8vec_ip_ops USING quantvec ADD OPERATOR 3 <#> (int8vec, vector) FOR ORDER BY float_ops;
ALTER OPERATOR FAMILY int8vec_cosine_ops USING quantvec ADD OPERATOR 3 <=> (int8vec, vector) FOR ORDER BY float_ops;
