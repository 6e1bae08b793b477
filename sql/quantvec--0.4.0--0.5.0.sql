-- quantvec 0.4.0 -> 0.5.0: a recall target. Index builds measure which probes and
-- rescore factor reach which recall@10 (stored in the metapage, page format 2; format 1
-- indexes are still read and use the old defaults until REINDEX), and scans take the
-- cheapest setting that reaches quantvec.target_recall. quantvec_index_stats gains the
-- recall expected at the settings a query would use; quantvec_index_recall shows the curve.
\echo Use "ALTER EXTENSION quantvec UPDATE TO '0.5.0'" to load this file. \quit

DROP FUNCTION quantvec_index_stats(regclass);

CREATE  FUNCTION "quantvec_index_recall"(
	"index" regclass /* pgrx :: PgRelation */
) RETURNS TABLE (
	"indexrelid" regclass,  /* Regclass */
	"probes" INT,  /* i32 */
	"rescore_factor" double precision,  /* f64 */
	"recall" double precision,  /* f64 */
	"codes_scored" bigint,  /* i64 */
	"vectors_rescored" INT  /* i32 */
)
STRICT VOLATILE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'quantvec_index_recall_wrapper';

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
	"expected_recall" double precision  /* Option < f64 > */
)
STRICT VOLATILE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'quantvec_index_stats_wrapper';
