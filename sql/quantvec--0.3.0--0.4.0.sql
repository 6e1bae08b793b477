-- quantvec 0.3.0 -> 0.4.0: real[] casts to bitvec(n) on assignment (sign quantization, as
-- bitvec_quantize), as it does to int8vec(n); quantvec_index_stats shows an index's shape
-- and quantvec_last_scan what the last statement's index scans did. Index pages are
-- unchanged.
\echo Use "ALTER EXTENSION quantvec UPDATE TO '0.4.0'" to load this file. \quit

CREATE FUNCTION bitvec_from_real("values" real[], typmod integer, _explicit boolean) RETURNS bitvec
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'bitvec_from_real_wrapper';
CREATE CAST (real[] AS bitvec) WITH FUNCTION bitvec_from_real(real[], integer, boolean) AS ASSIGNMENT;

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
	"default_rescore_factor" double precision  /* f64 */
)
STRICT VOLATILE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'quantvec_index_stats_wrapper';

CREATE  FUNCTION "quantvec_last_scan"() RETURNS TABLE (
	"indexrelid" regclass,  /* Regclass */
	"loops" bigint,  /* i64 */
	"probes" INT,  /* i32 */
	"rescore_factor" double precision,  /* f64 */
	"lists_probed" bigint,  /* i64 */
	"codes_scored" bigint,  /* i64 */
	"rescans" bigint,  /* i64 */
	"rescored" bigint,  /* i64 */
	"rows_returned" bigint,  /* i64 */
	"pages_read" bigint  /* i64 */
)
STRICT VOLATILE PARALLEL RESTRICTED
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'quantvec_last_scan_wrapper';
