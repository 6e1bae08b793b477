#!/usr/bin/env bash
# ALTER EXTENSION quantvec UPDATE from the first release (0.1.0, whose install script is
# kept in tests/upgrade/) to the current version, with data and indexes in place: query
# results before and after are identical, the indexes stay consistent, the new features
# work, and the upgraded extension has exactly the objects of a fresh install.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cluster.sh

work=/tmp/quantvec-upgrade
port=${UPGRADE_PORT:-54345}
trap 'cluster_stop $work' EXIT
cp tests/upgrade/quantvec--0.1.0.sql "$(/usr/bin/pg_config --sharedir)/extension/"
cluster_start "$work" "$port"
sql() { cluster_psql "$work" -At "$@"; }

sql -d postgres <<'SQL'
CREATE EXTENSION quantvec VERSION '0.1.0';
CREATE TABLE items (id int PRIMARY KEY, e int8vec(32), b bitvec(32));
INSERT INTO items SELECT i, v, bitvec_quantize(v)
  FROM (SELECT i, (SELECT array_agg(sin(i * 0.3 + d) + cos(d * i * 0.01))::real[] FROM generate_series(1, 32) d) v
          FROM generate_series(1, 5000) i) s;
CREATE INDEX items_e ON items USING quantvec (e int8vec_cosine_ops);
CREATE INDEX items_b ON items USING quantvec (b);
SQL
results() {
    sql -d postgres <<'SQL'
SET enable_seqscan = off;
SELECT string_agg(ids, ' | ' ORDER BY q) FROM (
  SELECT q, (SELECT string_agg(id::text, ',') FROM (SELECT id FROM items ORDER BY e <=> (SELECT e::real[] FROM items WHERE id = q) LIMIT 10) s)
         || ' / ' || (SELECT string_agg(d::text, ',') FROM (SELECT b <~> (SELECT b FROM items WHERE id = q) AS d FROM items ORDER BY b <~> (SELECT b FROM items WHERE id = q) LIMIT 10) s) AS ids
    FROM generate_series(1, 5000, 397) q) r;
SQL
}
before=$(results)
echo "installed $(sql -d postgres -c "SELECT extversion FROM pg_extension WHERE extname = 'quantvec'")"
sql -d postgres -c "ALTER EXTENSION quantvec UPDATE"
version=$(sql -d postgres -c "SELECT extversion FROM pg_extension WHERE extname = 'quantvec'")
echo "updated to $version"
[ "$version" != 0.1.0 ] || { echo "FAILED: not updated"; exit 1; }
after=$(results)
[ "$before" = "$after" ] || { echo "FAILED: results changed across the update"; exit 1; }
echo "index scans return the same rows before and after the update"
sql -d postgres -c "SELECT * FROM quantvec_index_check('items_e')" -c "SELECT * FROM quantvec_index_check('items_b')"
sql -d postgres -c "INSERT INTO items SELECT id + 10000, e, b FROM items WHERE id <= 100" \
                -c "SELECT * FROM quantvec_index_check('items_e')"
# New in 0.2.0: equality, the quality report, migration.
[ "$(sql -d postgres -c "SELECT count(*) FROM (SELECT DISTINCT e FROM items) d")" -gt 4000 ] || { echo "FAILED: DISTINCT"; exit 1; }
sql -d postgres -c "SELECT count(*) FROM quantvec_quality_report('items', 'e', 1000, 50)" >/dev/null
sql -d postgres -c "SELECT 'quantvec_migrate(regclass,name,name,text,integer,text,boolean)'::regprocedure" >/dev/null

# The same objects as a fresh install of the current version.
members() {
    sql -d "$1" -c "SELECT pg_describe_object(classid, objid, objsubid) FROM pg_depend
                     WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
                       AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'quantvec') ORDER BY 1"
}
sql -d postgres -c "CREATE DATABASE fresh"
sql -d fresh -c "CREATE EXTENSION quantvec"
if ! diff <(members postgres) <(members fresh); then
    echo "FAILED: the upgraded extension differs from a fresh install (< upgraded, > fresh)"; exit 1
fi
echo "upgraded and fresh installs have the same $(members fresh | wc -l) objects"
echo "upgrade: passed"
