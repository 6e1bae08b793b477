-- quantvec 0.5.0 -> 0.6.0: int4vec, 4-bit codes two per byte with a scale and zero-point:
-- its I/O, casts (to and from real[], double precision[], numeric[], int8vec and bitvec),
-- quantizers, column calibration (int4vec_calibrate), distance operators (exact between
-- two int4vec, asymmetric against a real[] query), equality and hashing; the index's
-- operator classes for int4vec columns (int4vec_l2_ops, the default, int4vec_ip_ops and
-- int4vec_cosine_ops), which rescore from the 4-bit codes. Indexes with 4-bit codes
-- (first pass WITH (code_bits = 4), or on int4vec columns) are page format 3. A label
-- column (int4_label_ops; int8, text and uuid labels stored as hashes) filters inside the
-- scan (page format 4); quantvec_index_stats gains labelled_rows.
\echo Use "ALTER EXTENSION quantvec UPDATE TO '0.6.0'" to load this file. \quit

CREATE TYPE int4vec;
CREATE TYPE int4vec_params AS (scale real, zero_point smallint);
COMMENT ON TYPE int4vec_params IS 'shared int4vec quantization parameters: f ≈ scale·(q − zero_point), q and zero_point in 0..15';


-- quantvec::types::int4vec::int4vec_in
CREATE  FUNCTION "int4vec_in"(
	"input" cstring, /* & CStr */
	"_type_oid" oid, /* pg_sys :: Oid */
	"typmod" INT /* i32 */
) RETURNS int4vec /* Int4VecOutput */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_in_wrapper';

-- quantvec::types::int4vec::int4vec_out
CREATE  FUNCTION "int4vec_out"(
	"vector" int4vec /* Int4VecInput */
) RETURNS cstring /* CString */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_out_wrapper';

-- quantvec::types::int4vec::int4vec_recv
CREATE  FUNCTION "int4vec_recv"(
	"buffer" internal, /* Internal */
	"_type_oid" oid, /* pg_sys :: Oid */
	"typmod" INT /* i32 */
) RETURNS int4vec /* Int4VecOutput */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_recv_wrapper';

-- quantvec::types::int4vec::int4vec_send
CREATE  FUNCTION "int4vec_send"(
	"vector" int4vec /* Int4VecInput */
) RETURNS bytea /* Vec < u8 > */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_send_wrapper';

-- quantvec::types::int4vec::int4vec_typmod_in
CREATE  FUNCTION "int4vec_typmod_in"(
	"list" cstring[] /* Array < & CStr > */
) RETURNS INT /* i32 */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_typmod_in_wrapper';

-- quantvec::types::int4vec::int4vec_typmod_out
CREATE  FUNCTION "int4vec_typmod_out"(
	"typmod" INT /* i32 */
) RETURNS cstring /* CString */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_typmod_out_wrapper';

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

-- quantvec::types::int4vec::int4vec
CREATE  FUNCTION "int4vec"(
	"vector" int4vec, /* Int4VecInput */
	"typmod" INT, /* i32 */
	"_explicit" bool /* bool */
) RETURNS int4vec /* Int4VecOutput */
IMMUTABLE STRICT PARALLEL SAFE  
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_coerce_wrapper';

CREATE CAST (int4vec AS int4vec) WITH FUNCTION int4vec(int4vec, integer, boolean) AS IMPLICIT;

-- quantvec::casts::bitvec_from_int4vec
CREATE  FUNCTION "bitvec_from_int4vec"(
	"vector" int4vec /* Int4VecInput */
) RETURNS bitvec /* BitVecOutput */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'bitvec_from_int4vec_wrapper';

-- quantvec::distances::cosine_distance
CREATE  FUNCTION "cosine_distance"(
	"a" int4vec, /* Int4VecInput */
	"b" int4vec /* Int4VecInput */
) RETURNS double precision /* f64 */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_cosine_distance_wrapper';

-- quantvec::distances::cosine_distance
CREATE  FUNCTION "cosine_distance"(
	"a" int4vec, /* Int4VecInput */
	"x" real[] /* RealArray */
) RETURNS double precision /* f64 */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_real_cosine_distance_wrapper';

-- quantvec::distances::dims
CREATE  FUNCTION "dims"(
	"a" int4vec /* Int4VecInput */
) RETURNS INT /* i32 */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_dims_wrapper';

-- quantvec::distances::inner_product
CREATE  FUNCTION "inner_product"(
	"a" int4vec, /* Int4VecInput */
	"b" int4vec /* Int4VecInput */
) RETURNS double precision /* f64 */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_inner_product_wrapper';

-- quantvec::distances::inner_product
CREATE  FUNCTION "inner_product"(
	"a" int4vec, /* Int4VecInput */
	"x" real[] /* RealArray */
) RETURNS double precision /* f64 */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_real_inner_product_wrapper';

-- quantvec::calibrate::int4vec_calibrate_minmax_final
CREATE  FUNCTION "int4vec_calibrate_minmax_final"(
	"state" internal /* Internal */
) RETURNS int4vec_params /* Option < :: pgrx :: heap_tuple :: PgHeapTuple < '_, :: pgrx :: pgbox ::
AllocatedByRust > > */
IMMUTABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_calibrate_minmax_final_wrapper';

-- quantvec::calibrate::int4vec_calibrate_quantile_final
CREATE  FUNCTION "int4vec_calibrate_quantile_final"(
	"state" internal /* Internal */
) RETURNS int4vec_params /* Option < :: pgrx :: heap_tuple :: PgHeapTuple < '_, :: pgrx :: pgbox ::
AllocatedByRust > > */
IMMUTABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_calibrate_quantile_final_wrapper';

-- quantvec::casts::int4vec_codes
CREATE  FUNCTION "int4vec_codes"(
	"vector" int4vec /* Int4VecInput */
) RETURNS smallint[] /* Vec < i16 > */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_codes_wrapper';

-- quantvec::distances::int4vec_eq
CREATE  FUNCTION "int4vec_eq"(
	"a" int4vec, /* Int4VecInput */
	"b" int4vec /* Int4VecInput */
) RETURNS bool /* bool */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_eq_wrapper';

-- quantvec::casts::int4vec_from_codes
CREATE  FUNCTION "int4vec_from_codes"(
	"codes" integer[], /* Int4Array */
	"scale" real, /* f32 */
	"zero_point" INT /* i32 */
) RETURNS int4vec /* Int4VecOutput */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_from_codes_wrapper';

-- quantvec::casts::int4vec_from_float8
CREATE  FUNCTION "int4vec_from_float8"(
	"values" double precision[], /* Float8Array */
	"typmod" INT, /* i32 */
	"_explicit" bool /* bool */
) RETURNS int4vec /* Int4VecOutput */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_from_float8_wrapper';

-- quantvec::casts::int4vec_from_int8vec
CREATE  FUNCTION "int4vec_from_int8vec"(
	"vector" int8vec, /* Int8VecInput */
	"typmod" INT, /* i32 */
	"_explicit" bool /* bool */
) RETURNS int4vec /* Int4VecOutput */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_from_int8vec_wrapper';

-- quantvec::casts::int4vec_from_real
CREATE  FUNCTION "int4vec_from_real"(
	"values" real[], /* RealArray */
	"typmod" INT, /* i32 */
	"_explicit" bool /* bool */
) RETURNS int4vec /* Int4VecOutput */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_from_real_wrapper';

-- quantvec::distances::int4vec_hash
CREATE  FUNCTION "int4vec_hash"(
	"a" int4vec /* Int4VecInput */
) RETURNS INT /* i32 */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_hash_wrapper';

-- quantvec::distances::int4vec_ne
CREATE  FUNCTION "int4vec_ne"(
	"a" int4vec, /* Int4VecInput */
	"b" int4vec /* Int4VecInput */
) RETURNS bool /* bool */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_ne_wrapper';

-- quantvec::distances::int4vec_negative_inner_product
CREATE  FUNCTION "int4vec_negative_inner_product"(
	"a" int4vec, /* Int4VecInput */
	"b" int4vec /* Int4VecInput */
) RETURNS double precision /* f64 */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_negative_inner_product_wrapper';

-- quantvec::distances::int4vec_negative_inner_product
CREATE  FUNCTION "int4vec_negative_inner_product"(
	"a" int4vec, /* Int4VecInput */
	"x" real[] /* RealArray */
) RETURNS double precision /* f64 */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_real_negative_inner_product_wrapper';

-- quantvec::casts::int4vec_quantize
CREATE  FUNCTION "int4vec_quantize"(
	"values" real[] /* RealArray */
) RETURNS int4vec /* Int4VecOutput */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_quantize_wrapper';

-- quantvec::casts::int4vec_quantize
CREATE  FUNCTION "int4vec_quantize"(
	"values" real[], /* RealArray */
	"scale" real, /* f32 */
	"zero_point" INT /* i32 */
) RETURNS int4vec /* Int4VecOutput */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_quantize_with_wrapper';

-- quantvec::casts::int4vec_quantize_absmax
CREATE  FUNCTION "int4vec_quantize_absmax"(
	"values" real[] /* RealArray */
) RETURNS int4vec /* Int4VecOutput */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_quantize_absmax_wrapper';

-- quantvec::casts::int4vec_quantize_clipped
CREATE  FUNCTION "int4vec_quantize_clipped"(
	"values" real[], /* RealArray */
	"lower_quantile" double precision, /* f64 */
	"upper_quantile" double precision /* f64 */
) RETURNS int4vec /* Int4VecOutput */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_quantize_clipped_wrapper';

-- quantvec::casts::int4vec_scale
CREATE  FUNCTION "int4vec_scale"(
	"vector" int4vec /* Int4VecInput */
) RETURNS real /* f32 */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_scale_wrapper';

-- quantvec::casts::int4vec_to_real
CREATE  FUNCTION "int4vec_to_real"(
	"vector" int4vec /* Int4VecInput */
) RETURNS real[] /* Vec < f32 > */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_to_real_wrapper';

-- quantvec::casts::int4vec_zero_point
CREATE  FUNCTION "int4vec_zero_point"(
	"vector" int4vec /* Int4VecInput */
) RETURNS smallint /* i16 */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_zero_point_wrapper';

-- quantvec::casts::int8vec_from_int4vec
CREATE  FUNCTION "int8vec_from_int4vec"(
	"vector" int4vec /* Int4VecInput */
) RETURNS int8vec /* Int8VecOutput */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int8vec_from_int4vec_wrapper';

-- quantvec::distances::l1_distance
CREATE  FUNCTION "l1_distance"(
	"a" int4vec, /* Int4VecInput */
	"b" int4vec /* Int4VecInput */
) RETURNS double precision /* f64 */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_l1_distance_wrapper';

-- quantvec::distances::l2_distance
CREATE  FUNCTION "l2_distance"(
	"a" int4vec, /* Int4VecInput */
	"b" int4vec /* Int4VecInput */
) RETURNS double precision /* f64 */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_l2_distance_wrapper';

-- quantvec::distances::l2_distance
CREATE  FUNCTION "l2_distance"(
	"a" int4vec, /* Int4VecInput */
	"x" real[] /* RealArray */
) RETURNS double precision /* f64 */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_real_l2_distance_wrapper';

-- quantvec::distances::norm
CREATE  FUNCTION "norm"(
	"a" int4vec /* Int4VecInput */
) RETURNS double precision /* f64 */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int4vec_norm_wrapper';

-- int4vec: the same casts as int8vec, plus exact int4vec -> int8vec (same codes and
-- parameters) and int8vec -> int4vec (requantized per vector, so explicit only).
CREATE FUNCTION int4vec_from_numeric(numeric[], integer, boolean) RETURNS int4vec
    AS 'SELECT int4vec_from_float8($1::double precision[], $2, $3)'
    LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE;

CREATE CAST (real[] AS int4vec) WITH FUNCTION int4vec_from_real(real[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (double precision[] AS int4vec) WITH FUNCTION int4vec_from_float8(double precision[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (numeric[] AS int4vec) WITH FUNCTION int4vec_from_numeric(numeric[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (int4vec AS real[]) WITH FUNCTION int4vec_to_real(int4vec);
CREATE CAST (int4vec AS int8vec) WITH FUNCTION int8vec_from_int4vec(int4vec) AS ASSIGNMENT;
CREATE CAST (int8vec AS int4vec) WITH FUNCTION int4vec_from_int8vec(int8vec, integer, boolean);
CREATE CAST (int4vec AS bitvec) WITH FUNCTION bitvec_from_int4vec(int4vec);

CREATE FUNCTION int4vec_quantize(real[], int4vec_params) RETURNS int4vec
    AS 'SELECT int4vec_quantize($1, ($2).scale, ($2).zero_point)'
    LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION int4vec_from_codes(smallint[], real, integer) RETURNS int4vec
    AS 'SELECT int4vec_from_codes($1::integer[], $2, $3)'
    LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR <-> (LEFTARG = int4vec, RIGHTARG = int4vec, FUNCTION = l2_distance, COMMUTATOR = '<->');
CREATE OPERATOR <#> (LEFTARG = int4vec, RIGHTARG = int4vec, FUNCTION = int4vec_negative_inner_product, COMMUTATOR = '<#>');
CREATE OPERATOR <=> (LEFTARG = int4vec, RIGHTARG = int4vec, FUNCTION = cosine_distance, COMMUTATOR = '<=>');
CREATE OPERATOR <+> (LEFTARG = int4vec, RIGHTARG = int4vec, FUNCTION = l1_distance, COMMUTATOR = '<+>');
CREATE OPERATOR <-> (LEFTARG = int4vec, RIGHTARG = real[], FUNCTION = l2_distance);
CREATE OPERATOR <#> (LEFTARG = int4vec, RIGHTARG = real[], FUNCTION = int4vec_negative_inner_product);
CREATE OPERATOR <=> (LEFTARG = int4vec, RIGHTARG = real[], FUNCTION = cosine_distance);

CREATE OPERATOR = (LEFTARG = int4vec, RIGHTARG = int4vec, FUNCTION = int4vec_eq, COMMUTATOR = '=', NEGATOR = '<>',
                   RESTRICT = eqsel, JOIN = eqjoinsel, HASHES);
CREATE OPERATOR <> (LEFTARG = int4vec, RIGHTARG = int4vec, FUNCTION = int4vec_ne, COMMUTATOR = '<>', NEGATOR = '=',
                    RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR CLASS int4vec_hash_ops DEFAULT FOR TYPE int4vec USING hash AS
    OPERATOR 1 = (int4vec, int4vec), FUNCTION 1 int4vec_hash(int4vec);

-- The same states, finished into 4-bit parameters.
CREATE AGGREGATE int4vec_calibrate(real[]) (
    SFUNC = int8vec_calibrate_minmax_step,
    STYPE = internal,
    FINALFUNC = int4vec_calibrate_minmax_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE int4vec_calibrate(real[]) IS 'shared int4vec parameters from the min and max of every component';

CREATE AGGREGATE int4vec_calibrate(real[], double precision, double precision) (
    SFUNC = int8vec_calibrate_quantile_step,
    STYPE = internal,
    FINALFUNC = int4vec_calibrate_quantile_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE int4vec_calibrate(real[], double precision, double precision) IS 'shared int4vec parameters from two quantiles of the components (outliers clipped)';

-- The index on int4vec columns.
-- quantvec::index::quantvec_metric_int4vec_cosine
CREATE  FUNCTION "quantvec_metric_int4vec_cosine"() RETURNS INT /* i32 */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'quantvec_metric_int4vec_cosine_wrapper';

-- quantvec::index::quantvec_metric_int4vec_inner_product
CREATE  FUNCTION "quantvec_metric_int4vec_inner_product"() RETURNS INT /* i32 */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'quantvec_metric_int4vec_inner_product_wrapper';

-- quantvec::index::quantvec_metric_int4vec_l2
CREATE  FUNCTION "quantvec_metric_int4vec_l2"() RETURNS INT /* i32 */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'quantvec_metric_int4vec_l2_wrapper';

CREATE OPERATOR CLASS int4vec_l2_ops DEFAULT FOR TYPE int4vec USING quantvec AS
    OPERATOR 1 <-> (int4vec, int4vec) FOR ORDER BY float_ops,
    OPERATOR 2 <-> (int4vec, real[]) FOR ORDER BY float_ops,
    FUNCTION 1 (int4vec, int4vec) quantvec_metric_int4vec_l2();

CREATE OPERATOR CLASS int4vec_ip_ops FOR TYPE int4vec USING quantvec AS
    OPERATOR 1 <#> (int4vec, int4vec) FOR ORDER BY float_ops,
    OPERATOR 2 <#> (int4vec, real[]) FOR ORDER BY float_ops,
    FUNCTION 1 (int4vec, int4vec) quantvec_metric_int4vec_inner_product();

CREATE OPERATOR CLASS int4vec_cosine_ops FOR TYPE int4vec USING quantvec AS
    OPERATOR 1 <=> (int4vec, int4vec) FOR ORDER BY float_ops,
    OPERATOR 2 <=> (int4vec, real[]) FOR ORDER BY float_ops,
    FUNCTION 1 (int4vec, int4vec) quantvec_metric_int4vec_cosine();

-- quantvec::index::labels::quantvec_label_int4
CREATE  FUNCTION "quantvec_label_int4"() RETURNS INT /* i32 */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'quantvec_label_int4_wrapper';

-- A label column after the vector, (e, label): `WHERE label = v` (or `= ANY(...)`, with an
-- int4, int2 or int8 v) filters inside the scan, before a row is estimated.
CREATE OPERATOR CLASS int4_label_ops DEFAULT FOR TYPE int4 USING quantvec AS
    OPERATOR 1 = (int4, int4),
    OPERATOR 2 = (int4, int2),
    OPERATOR 3 = (int4, int8),
    FUNCTION 1 (int4, int4) quantvec_label_int4();

-- quantvec::index::labels::quantvec_label_hashed
CREATE  FUNCTION "quantvec_label_hashed"() RETURNS INT /* i32 */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'quantvec_label_hashed_wrapper';

-- Labels of other types are stored as their 32-bit hash under the type's hash function
-- (FUNCTION 2, one per right-hand type); rows whose value merely shares the hash are
-- dropped by the executor's recheck.
CREATE OPERATOR CLASS int8_label_ops DEFAULT FOR TYPE int8 USING quantvec AS
    OPERATOR 1 = (int8, int8),
    OPERATOR 2 = (int8, int4),
    OPERATOR 3 = (int8, int2),
    FUNCTION 1 (int8, int8) quantvec_label_hashed(),
    FUNCTION 2 (int8, int8) hashint8(int8),
    FUNCTION 2 (int8, int4) hashint4(int4),
    FUNCTION 2 (int8, int2) hashint2(int2);

CREATE OPERATOR CLASS text_label_ops DEFAULT FOR TYPE text USING quantvec AS
    OPERATOR 1 = (text, text),
    FUNCTION 1 (text, text) quantvec_label_hashed(),
    FUNCTION 2 (text, text) hashtext(text);

CREATE OPERATOR CLASS uuid_label_ops DEFAULT FOR TYPE uuid USING quantvec AS
    OPERATOR 1 = (uuid, uuid),
    FUNCTION 1 (uuid, uuid) quantvec_label_hashed(),
    FUNCTION 2 (uuid, uuid) uuid_hash(uuid);

DROP FUNCTION quantvec_index_stats(regclass);

CREATE  FUNCTION "quantvec_index_stats"(
	"index" regclass /* pgrx :: PgRelation */
) RETURNS TABLE (
	"indexrelid" regclass,  /* Regclass */
	"format_version" INT,  /* i32 */
	"metric" TEXT,  /* & '_ str */
	"dimensions" INT,  /* i32 */
	"lists" INT,  /* i32 */
	"rows" bigint,  /* i64 */
	"rows_at_build" bigint,  /* i64 */
	"table_dead_rows" bigint,  /* i64 */
	"list_rows_min" bigint,  /* i64 */
	"list_rows_median" bigint,  /* i64 */
	"list_rows_max" bigint,  /* i64 */
	"free_vector_slots" bigint,  /* Option < i64 > */
	"pages" bigint,  /* i64 */
	"centroid_pages" bigint,  /* i64 */
	"directory_pages" bigint,  /* i64 */
	"code_pages" bigint,  /* i64 */
	"vector_pages" bigint,  /* i64 */
	"build_options" TEXT[],  /* :: std :: option :: Option < Vec < String > > */
	"default_probes" INT,  /* i32 */
	"default_rescore_factor" double precision,  /* f64 */
	"expected_recall" double precision,  /* Option < f64 > */
	"labelled_rows" bigint  /* Option < i64 > */
)
STRICT VOLATILE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'quantvec_index_stats_wrapper';
