#!/usr/bin/env bash
# ALTER EXTENSION quantvec UPDATE from each earlier release (0.1.0 to 0.5.0, whose install
# scripts are kept in tests/upgrade/) to the current version, with data and indexes in
# place: query results before and after are identical, the indexes stay consistent, the new
# features work, a migration started under 0.2.0 finishes under the current version, and
# the upgraded extension has exactly the objects (and function definitions and table
# columns) of a fresh install.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cluster.sh

work=/tmp/quantvec-upgrade
port=${UPGRADE_PORT:-54345}
trap 'cluster_stop $work' EXIT
cp tests/upgrade/quantvec--0.1.0.sql tests/upgrade/quantvec--0.2.0.sql tests/upgrade/quantvec--0.3.0.sql tests/upgrade/quantvec--0.4.0.sql \
    tests/upgrade/quantvec--0.5.0.sql \
    "$("$PG_CONFIG" --sharedir)/extension/"
cluster_start "$work" "$port"
sql() { cluster_psql "$work" -At "$@"; }

# What a fresh install has, to compare upgraded ones with.
sql -d postgres -c "CREATE DATABASE fresh"
sql -d fresh -c "CREATE EXTENSION quantvec"
members() {
    sql -d "$1" <<'SQL'
SELECT pg_describe_object(classid, objid, objsubid) FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'quantvec') ORDER BY 1;
SELECT pg_get_functiondef(objid) FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid
 WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND p.prokind IN ('f', 'p') ORDER BY p.proname, pg_get_function_identity_arguments(p.oid);
SELECT attname, format_type(atttypid, atttypmod), attnotnull, pg_get_expr(adbin, adrelid)
  FROM pg_attribute LEFT JOIN pg_attrdef ON adrelid = attrelid AND adnum = attnum
 WHERE attrelid = 'quantvec_migrations'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
SQL
}

upgrade_from() {
    local from=$1 db=from_${1//./_}
    sql -d postgres -c "CREATE DATABASE $db"
    sql -d "$db" <<SQL
CREATE EXTENSION quantvec VERSION '$from';
CREATE TABLE items (id int PRIMARY KEY, e int8vec(32), b bitvec(32));
INSERT INTO items SELECT i, v, bitvec_quantize(v)
  FROM (SELECT i, (SELECT array_agg(sin(i * 0.3 + d) + cos(d * i * 0.01))::real[] FROM generate_series(1, 32) d) v
          FROM generate_series(1, 5000) i) s;
CREATE INDEX items_e ON items USING quantvec (e int8vec_cosine_ops);
CREATE INDEX items_b ON items USING quantvec (b);
SQL
    results() {
        sql -d "$db" <<'SQL'
SET enable_seqscan = off;
SELECT string_agg(ids, ' | ' ORDER BY q) FROM (
  SELECT q, (SELECT string_agg(id::text, ',') FROM (SELECT id FROM items ORDER BY e <=> (SELECT e::real[] FROM items WHERE id = q) LIMIT 10) s)
         || ' / ' || (SELECT string_agg(d::text, ',') FROM (SELECT b <~> (SELECT b FROM items WHERE id = q) AS d FROM items ORDER BY b <~> (SELECT b FROM items WHERE id = q) LIMIT 10) s) AS ids
    FROM generate_series(1, 5000, 397) q) r;
SQL
    }
    if [ "$from" = 0.2.0 ]; then
        # A migration under 0.2.0 whose fill is done but whose swap is not, with its trigger.
        sql -d "$db" -c "CREATE TABLE docs (id int, emb real[])" \
            -c "INSERT INTO docs SELECT i, ARRAY[i, 1 - i, 2]::real[] FROM generate_series(1, 300) i" \
            -c "CALL quantvec_migrate('docs', 'emb', 'emb_q', 'int8vec(3)')" 2>/dev/null
    fi
    local before after version
    before=$(results)
    sql -d "$db" -c "ALTER EXTENSION quantvec UPDATE"
    version=$(sql -d "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'quantvec'")
    echo "from $from: updated to $version"
    [ "$version" != "$from" ] || { echo "FAILED: not updated"; exit 1; }
    after=$(results)
    [ "$before" = "$after" ] || { echo "FAILED: results changed across the update"; exit 1; }
    echo "from $from: index scans return the same rows before and after the update"
    sql -d "$db" -c "SELECT * FROM quantvec_index_check('items_e')" -c "SELECT * FROM quantvec_index_check('items_b')" >/dev/null
    sql -d "$db" -c "INSERT INTO items SELECT id + 10000, e, b FROM items WHERE id <= 100" \
        -c "SELECT * FROM quantvec_index_check('items_e')" >/dev/null
    # New in 0.2.0: equality, the quality report, migration.
    [ "$(sql -d "$db" -c "SELECT count(*) FROM (SELECT DISTINCT e FROM items) d")" -gt 4000 ] || { echo "FAILED: DISTINCT"; exit 1; }
    sql -d "$db" -c "SELECT count(*) FROM quantvec_quality_report('items', 'e', 1000, 50)" >/dev/null
    # New in 0.3.0: migrations count what they cannot convert instead of failing writes;
    # the one started under 0.2.0, CALLed again, goes on with this version's trigger.
    if [ "$from" = 0.2.0 ]; then
        sql -d "$db" -c "CALL quantvec_migrate('docs', 'emb', 'emb_q')" 2>/dev/null
        sql -d "$db" -c "INSERT INTO docs VALUES (301, '{1,2}'), (302, '{NaN,1,1}')" \
            -c "CALL quantvec_migrate('docs', 'emb', 'emb_q', swap => true)" 2>"$work/swap.log" >/dev/null
        grep -q "2 rows of docs could not be converted" "$work/swap.log" || { cat "$work/swap.log"; echo "FAILED: the 0.2.0 migration"; exit 1; }
        [ "$(sql -d "$db" -c "SELECT count(*) FROM docs WHERE emb IS NOT NULL")" = 300 ] || { echo "FAILED: the 0.2.0 migration's rows"; exit 1; }
        [ "$(sql -d "$db" -c "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'docs'::regclass")" = 0 ] || { echo "FAILED: a trigger was left"; exit 1; }
        [ "$(sql -d "$db" -c "SELECT count(*) FROM pg_proc WHERE proname LIKE 'quantvec_migrate_%' AND proname <> 'quantvec_migrate_prepare'")" = 0 ] ||
            { echo "FAILED: a migration's functions were left"; exit 1; }
        echo "from $from: a migration started before the update finished after it"
    fi
    # New in 0.4.0: real[] casts to bitvec(n).
    [ "$(sql -d "$db" -c "SELECT '{1,-2,3}'::real[]::bitvec(3) = bitvec_quantize('{1,-2,3}')")" = t ] || { echo "FAILED: real[]::bitvec"; exit 1; }
    # New in 0.5.0: the recall curve, and the recall a query's settings are expected to reach.
    [ "$(sql -d "$db" -c "SELECT count(*) > 0 FROM quantvec_index_recall('items_e')")" = t ] &&
        [ "$(sql -d "$db" -c "SELECT expected_recall > 0 FROM quantvec_index_stats('items_e')")" = t ] ||
        { echo "FAILED: quantvec_index_recall"; exit 1; }
    # New in 0.6.0: int4vec, its casts, operators and calibration.
    [ "$(sql -d "$db" -c "SELECT (e::int4vec(32) <=> e::real[]) < 0.1 AND e::int4vec::int8vec::real[] = e::int4vec::real[]
                           AND int4vec_calibrate(e::real[]) IS NOT NULL FROM items WHERE id = 7 GROUP BY e")" = t ] ||
        { echo "FAILED: int4vec"; exit 1; }
    sql -d "$db" -c "CREATE TABLE items4 AS SELECT id, e::int4vec(32) AS e FROM items" \
        -c "CREATE INDEX items4_e ON items4 USING quantvec (e int4vec_cosine_ops) WITH (code_bits = 4)" \
        -c "SELECT * FROM quantvec_index_check('items4_e')" >/dev/null
    # (0.6.0, too: a label column.)
    sql -d "$db" -c "CREATE TABLE itemsl AS SELECT id, e, id % 10 AS cat FROM items" \
        -c "CREATE INDEX itemsl_e ON itemsl USING quantvec (e, cat)" \
        -c "SELECT * FROM quantvec_index_check('itemsl_e')" >/dev/null
    if ! diff <(members "$db") <(members fresh); then
        echo "FAILED: the extension updated from $from differs from a fresh install (< upgraded, > fresh)"; exit 1
    fi
    echo "from $from: the updated and a fresh install have the same $(sql -d fresh -c "SELECT count(*) FROM pg_depend WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'") objects, definitions and columns"
}
upgrade_from 0.1.0
upgrade_from 0.2.0
upgrade_from 0.3.0
upgrade_from 0.4.0
upgrade_from 0.5.0
echo "upgrade: passed"
