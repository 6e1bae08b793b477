#!/usr/bin/env bash
# Filtered search benchmark (prints figures, asserts nothing) on the shared 100k x 384
# wordnet-minilm-384 set: `WHERE <label> = $2 ORDER BY e <=> $1 LIMIT 10` with a btree on
# each label column, for filters that keep 50%, 10% and 1% of the rows at random (uniform
# labels), and 1% that is correlated with the query (the rows nearest the same one of 100
# anchor rows as the query) or anti-correlated (the rows nearest the anchor farthest from
# the query). For each: recall@10 against the exact filtered top 10 (float cosine) and
# time per query (a plpgsql loop over the queries, the same for every side, after a
# warm-up pass), for quantvec as the planner chooses (the btree and an exact ranking, or
# the index) and with its index forced, the same with the label as the index's second
# column (`USING quantvec (e, label)`, which filters inside the scan), and, where pgvector is installed in the same
# PostgreSQL, its HNSW index (m 16, ef_construction 64, ef_search 40) with
# hnsw.iterative_scan off, strict_order and relaxed_order, forced, and as the planner
# chooses with relaxed_order; and where VectorChord is installed (or VECTORCHORD_SRC names a
# checkout to build it from: see scripts/bench_index.sh), its vchordrq index (quantvec's
# list count, spherical centroids, vchordrq.probes BENCH_VCHORD_PROBES, default 60, which
# reaches recall 0.95 unfiltered in bench_index.sh) with vchordrq.prefilter on and off,
# forced, and as the planner chooses with prefilter on.
#
# The rows land in docs/bench/filtered/filtered.tsv (or BENCH_OUT's), drawn into
# filtered.svg beside it.
#
#   bash scripts/bench_filtered.sh [QUERIES]      # default 200 queries
#   PG_CONFIG=.../pg_config bash scripts/bench_filtered.sh   # another PostgreSQL (the 18 of
#                                                 # scripts/postgres.sh has pgvector)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/cluster.sh
queries=${1:-200}
data=${QUANTVEC_DATA_DIR:-../shared/data}/wordnet-minilm-384

bash scripts/install.sh
cargo build --release --quiet -p quantvec-core --bin quantvec-data
cargo build --release --quiet -p quantvec-client --example plot_filtered
tool=target/release/quantvec-data
out=${BENCH_OUT:-docs/bench/filtered}

preload=()
vectorchord_install && preload=("shared_preload_libraries = 'vchord'")
work=/tmp/quantvec-bench-filtered
trap 'cluster_stop $work' EXIT
cluster_start "$work" "${BENCH_PORT:-54356}" "shared_buffers = 1GB" "maintenance_work_mem = 1GB" \
    "max_parallel_workers_per_gather = 0" "jit = off" "${preload[@]}"
sql() { cluster_psql "$work" -d postgres "$@"; }
pgvector=$(sql -At -c "SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'")
vchord=0
[ "${#preload[@]}" = 1 ] && [ "$pgvector" = 1 ] && vchord=1

echo "== loading 100,000 vectors and $queries queries from $data"
sql -q -c "CREATE EXTENSION quantvec" -c "CREATE TABLE floats (id int PRIMARY KEY, f real[])" \
    -c "CREATE TABLE queries (id int PRIMARY KEY, f real[])"
"$tool" copy "$data/base_f16.npy" | sql -q -c "COPY floats FROM STDIN"
"$tool" copy "$data/queries_f16.npy" --limit "$queries" | sql -q -c "COPY queries FROM STDIN"
sql -q -v pgvector="$pgvector" -v vchord="$vchord" <<'SQL'
\set ON_ERROR_STOP on
-- Labels: uniform ones from the id, and the nearest of 100 anchor rows (a cluster label,
-- which a query's neighbours tend to share).
CREATE TABLE anchors AS SELECT id, f, f::int8vec(384) AS e FROM floats WHERE id % 1000 = 0;
CREATE TABLE items AS
  SELECT id, f::int8vec(384) AS e, id % 2 AS c2, id % 10 AS c10, id % 100 AS c100,
         (SELECT a.id FROM anchors a ORDER BY a.e <=> fl.f LIMIT 1) AS anchor
    FROM floats fl;
ALTER TABLE items ADD PRIMARY KEY (id);
CREATE TABLE labels AS SELECT id, c2, c10, c100, anchor FROM items;
ALTER TABLE queries ADD COLUMN c2 int, ADD COLUMN c10 int, ADD COLUMN c100 int, ADD COLUMN near int, ADD COLUMN far int;
UPDATE queries q SET c2 = id % 2, c10 = id % 10, c100 = id % 100,
  near = (SELECT a.id FROM anchors a ORDER BY a.e <=> q.f LIMIT 1),
  far = (SELECT a.id FROM anchors a ORDER BY a.e <=> q.f DESC LIMIT 1);
CREATE INDEX ON items (c2);
CREATE INDEX ON items (c10);
CREATE INDEX ON items (c100);
CREATE INDEX ON items (anchor);
SELECT :pgvector = 1 AS pgvector \gset
\if :pgvector
CREATE EXTENSION vector;
CREATE TABLE pv AS SELECT i.id, fl.f::vector(384) AS v, c2, c10, c100, anchor FROM items i JOIN floats fl USING (id);
ALTER TABLE pv ADD PRIMARY KEY (id);
CREATE INDEX ON pv (c2);
CREATE INDEX ON pv (c10);
CREATE INDEX ON pv (c100);
CREATE INDEX ON pv (anchor);
\endif
SELECT :vchord = 1 AS vchord \gset
\if :vchord
CREATE EXTENSION vchord;
-- pv's columns, key and btrees (its HNSW index comes later).
CREATE TABLE vc (LIKE pv INCLUDING ALL);
INSERT INTO vc SELECT * FROM pv;
\endif
CREATE TABLE filters (ord int, filter text, label text, query_label text);
INSERT INTO filters VALUES
  (1, '50%, uniform', 'c2', 'c2'), (2, '10%, uniform', 'c10', 'c10'), (3, '1%, uniform', 'c100', 'c100'),
  (4, '1%, correlated', 'anchor', 'near'), (5, '1%, anti-correlated', 'anchor', 'far');
SELECT filter, round(100.0 * avg(share), 2) AS "rows kept, %" FROM filters,
  LATERAL (SELECT (SELECT count(*) FROM labels l WHERE l.anchor = q.near)::numeric / 100000 AS share FROM queries q WHERE label = 'anchor' AND query_label = 'near'
           UNION ALL SELECT (SELECT count(*) FROM labels l WHERE l.anchor = q.far)::numeric / 100000 FROM queries q WHERE label = 'anchor' AND query_label = 'far'
           UNION ALL SELECT 1.0 / substr(label, 2)::int WHERE label <> 'anchor') s
  GROUP BY ord, filter ORDER BY ord;
VACUUM ANALYZE;
SQL

echo "== builds"
timed() { # name, statement
    local started
    started=$(date +%s.%N)
    # VectorChord reports its k-means at INFO, which reaches the client at any setting.
    sql -q -c "$2" 2> >(grep -v '^INFO:' >&2)
    printf '%-45s %6.1f s\n' "$1" "$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')"
}
timed "quantvec (int8vec_cosine_ops)" "CREATE INDEX items_e ON items USING quantvec (e int8vec_cosine_ops)"
# The same rows with the label in the index: one index per label column.
sql -q -c "CREATE TABLE labelled (LIKE items INCLUDING ALL)" -c "INSERT INTO labelled SELECT * FROM items" -c "VACUUM ANALYZE labelled"
for label in c2 c10 c100 anchor; do
    timed "quantvec (e int8vec_cosine_ops, $label)" "CREATE INDEX labelled_e_$label ON labelled USING quantvec (e int8vec_cosine_ops, $label)"
done
if [ "$pgvector" = 1 ]; then
    timed "pgvector HNSW (m 16, ef_construction 64)" "CREATE INDEX pv_v ON pv USING hnsw (v vector_cosine_ops)"
fi
if [ "$vchord" = 1 ]; then
    lists=$(sql -At -c "SELECT lists FROM quantvec_index_stats('items_e')")
    timed "VectorChord vchordrq ($lists lists)" \
        "CREATE INDEX vc_v ON vc USING vchordrq (v vector_cosine_ops) WITH (options = \$\$$(vectorchord_options "$work" "$lists")\$\$)"
fi

echo "== exact filtered top 10 of each query (float cosine)"
sql -q <<'SQL'
-- Per filter and query: the query's value of the filter's label, and the exact top 10.
CREATE TABLE truth AS
  SELECT ord, q.id AS query_id, v.value,
         ARRAY(SELECT fl.id FROM floats fl JOIN labels l USING (id)
                WHERE CASE label WHEN 'c2' THEN l.c2 WHEN 'c10' THEN l.c10 WHEN 'c100' THEN l.c100 ELSE l.anchor END = v.value
                ORDER BY cosine_distance(fl.f, q.f) LIMIT 10) AS ids
    FROM filters, queries q,
         LATERAL (SELECT CASE query_label WHEN 'c2' THEN q.c2 WHEN 'c10' THEN q.c10 WHEN 'c100' THEN q.c100
                                          WHEN 'near' THEN q.near ELSE q.far END AS value) v;
-- filtered(search, settings): recall@10 and ms per query of `search` ($1: the query's
-- real[], $2: its value of the filter's label, %1$s: the label column) for each filter.
CREATE FUNCTION filtered(search text, settings text, OUT ord int, OUT recall numeric, OUT ms numeric) RETURNS SETOF record AS $$
DECLARE
  f record; q record; found int[]; hits int; n int; started timestamptz;
BEGIN
  FOR f IN SELECT * FROM filters ORDER BY filters.ord LOOP
    EXECUTE settings;
    FOR pass IN 1..2 LOOP
      hits := 0; n := 0; started := clock_timestamp();
      FOR q IN SELECT queries.f, t.value, t.ids FROM queries JOIN truth t ON t.query_id = queries.id AND t.ord = f.ord LOOP
        EXECUTE format('SELECT array_agg(id) FROM (' || search || ') s', f.label) INTO found USING q.f, q.value;
        hits := hits + cardinality(ARRAY(SELECT unnest(found) INTERSECT SELECT unnest(q.ids)));
        n := n + 1;
      END LOOP;
    END LOOP;
    ord := f.ord;
    ms := round((extract(epoch FROM clock_timestamp() - started) * 1000 / n)::numeric, 2);
    recall := round(hits / (10.0 * n), 3);
    RETURN NEXT;
    RESET ALL;
  END LOOP;
END $$ LANGUAGE plpgsql;
CREATE TABLE sides (side int, name text, search text, settings text);
INSERT INTO sides VALUES
  (1, 'quantvec, the planner''s choice', 'SELECT id FROM items WHERE %1$s = $2 ORDER BY e <=> $1 LIMIT 10', 'RESET ALL'),
  (2, 'quantvec index, forced', 'SELECT id FROM items WHERE %1$s = $2 ORDER BY e <=> $1 LIMIT 10',
   'SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off'),
  (10, 'quantvec with a label column, the planner''s choice', 'SELECT id FROM labelled WHERE %1$s = $2 ORDER BY e <=> $1 LIMIT 10', 'RESET ALL'),
  (11, 'quantvec (e, label) index, forced', 'SELECT id FROM labelled WHERE %1$s = $2 ORDER BY e <=> $1 LIMIT 10',
   'SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off');
SQL
if [ "$pgvector" = 1 ]; then
    sql -q <<'SQL'
INSERT INTO sides VALUES
  (3, 'pgvector, the planner''s choice, relaxed_order', 'SELECT id FROM pv WHERE %1$s = $2 ORDER BY v <=> $1::vector(384) LIMIT 10',
   'SET hnsw.iterative_scan = relaxed_order'),
  (4, 'pgvector HNSW forced, iterative scan off', 'SELECT id FROM pv WHERE %1$s = $2 ORDER BY v <=> $1::vector(384) LIMIT 10',
   'SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off'),
  (5, 'pgvector HNSW forced, strict_order', 'SELECT id FROM pv WHERE %1$s = $2 ORDER BY v <=> $1::vector(384) LIMIT 10',
   'SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off; SET hnsw.iterative_scan = strict_order'),
  (6, 'pgvector HNSW forced, relaxed_order', 'SELECT id FROM pv WHERE %1$s = $2 ORDER BY v <=> $1::vector(384) LIMIT 10',
   'SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off; SET hnsw.iterative_scan = relaxed_order');
SQL
else
    echo "pgvector is not installed in $("$PG_CONFIG" --version): its side is left out"
fi
if [ "$vchord" = 1 ]; then
    sql -q -v probes="'${BENCH_VCHORD_PROBES:-60}'" <<'SQL'
INSERT INTO sides VALUES
  (7, 'VectorChord, the planner''s choice, prefilter', 'SELECT id FROM vc WHERE %1$s = $2 ORDER BY v <=> $1::vector(384) LIMIT 10',
   format('SET vchordrq.probes = %s; SET vchordrq.prefilter = on', :probes)),
  (8, 'VectorChord vchordrq forced, prefilter off', 'SELECT id FROM vc WHERE %1$s = $2 ORDER BY v <=> $1::vector(384) LIMIT 10',
   format('SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off; SET vchordrq.probes = %s', :probes)),
  (9, 'VectorChord vchordrq forced, prefilter on', 'SELECT id FROM vc WHERE %1$s = $2 ORDER BY v <=> $1::vector(384) LIMIT 10',
   format('SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off; SET vchordrq.probes = %s; SET vchordrq.prefilter = on', :probes));
SQL
else
    echo "VectorChord is not installed in $("$PG_CONFIG" --version) (VECTORCHORD_SRC names a checkout to build it from): its side is left out"
fi

echo "== WHERE <label> = \$2 ORDER BY <=> \$1 LIMIT 10 ($queries queries; ms a query, second of two passes)"
sql <<'SQL'
\pset footer off
CREATE TABLE measured AS SELECT side, name, r.* FROM sides, LATERAL filtered(search, settings) r;
SELECT f.filter, m.name AS search, m.recall AS "recall@10", m.ms AS ms_per_query
  FROM measured m JOIN filters f USING (ord) ORDER BY f.ord, m.side;
SQL
mkdir -p "$out"
sql -At -F $'\t' -c "SELECT f.filter, m.name, m.recall, m.ms FROM measured m JOIN filters f USING (ord) ORDER BY f.ord, m.side" >"$out/filtered.tsv"
target/release/examples/plot_filtered "$out" "100k x 384"
