#!/usr/bin/env bash
# pgvector's columns and queries as they are, on the PostgreSQL of PG_CONFIG:
# - without pgvector, quantvec installs and works alone, and the companion extension
#   quantvec_pgvector is refused with an error that names what is missing;
# - with a pgvector older than 0.7.0 (no halfvec), quantvec_pgvector says so;
# - with pgvector 0.7.0 or later: vector and halfvec cast to int8vec(n) and bitvec(n)
#   exactly as their real[] forms do, on assignment too, with the typmod checked; int8vec
#   casts back to vector; a query vector of type vector (a literal or a parameter) reaches
#   the index through pgvector's implicit vector -> real[] cast and returns the rows the
#   real[] query returns; vector columns convert with ALTER TABLE and quantvec_migrate;
#   pg_dump/restore keeps the casts; pgvector cannot be dropped from under the casts.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cluster.sh

work=/tmp/quantvec-pgvector
port=${PGVECTOR_PORT:-54365}
trap 'cluster_stop $work/cluster' EXIT
cluster_start "$work/cluster" "$port"
sql() { cluster_psql "$work/cluster" -At "$@"; }
fail() {
    echo "FAILED: $*" >&2
    exit 1
}
# expect_error DB PATTERN SQL: SQL fails with an error matching PATTERN.
expect_error() {
    local out
    if out=$(sql -d "$1" -c "$3" 2>&1); then fail "succeeded: $3"; fi
    echo "$out" | grep -q "$2" || fail "\"$3\" failed otherwise: $out"
}

sql -d postgres -c "CREATE DATABASE alone"
sql -d alone -c "CREATE EXTENSION quantvec"
[ "$(sql -d alone -c "SELECT count(*) FROM pg_cast WHERE castsource::regtype::text IN ('vector', 'halfvec') OR casttarget::regtype::text = 'vector'")" = 0 ] ||
    fail "casts to or from pgvector's types without pgvector"
[ "$(sql -d alone -c "SELECT '{1,-2,3}'::real[]::int8vec(3)::real[]::bitvec(3) = '101'::bitvec")" = t ] || fail "quantvec alone"
available=$(sql -d alone -c "SELECT default_version FROM pg_available_extensions WHERE name = 'vector'")
if [ -z "$available" ]; then
    expect_error alone 'extension "vector"' "CREATE EXTENSION quantvec_pgvector CASCADE"
    echo "pgvector is not installed in $("$PG_CONFIG" --version): quantvec works alone and quantvec_pgvector says what it requires"
    echo "pgvector: passed (without pgvector)"
    exit 0
fi
expect_error alone 'required extension "vector" is not installed' "CREATE EXTENSION quantvec_pgvector"
echo "without pgvector in the database: quantvec works alone; quantvec_pgvector requires vector"

sql -d postgres -c "CREATE DATABASE casts"
sql -d casts -c "CREATE EXTENSION quantvec" -c "CREATE EXTENSION vector"
if [ "$(sql -d casts -c "SELECT to_regtype('halfvec') IS NULL")" = t ]; then
    expect_error casts "needs pgvector 0.7.0 or later (installed: $available)" "CREATE EXTENSION quantvec_pgvector"
    echo "pgvector $available has no halfvec: quantvec_pgvector asks for 0.7.0 or later"
    echo "pgvector: passed (pgvector $available)"
    exit 0
fi
sql -d casts -c "CREATE EXTENSION quantvec_pgvector"

sql -d casts -q <<'SQL'
CREATE TABLE pv (id int PRIMARY KEY, v vector(64), h halfvec(64));
INSERT INTO pv
SELECT i, a::vector(64), a::vector(64)::halfvec(64)
  FROM (SELECT i, (SELECT array_agg(sin(i * 0.71 + d * 1.3) * (1 + i % 9) + cos(i * 0.013 * d))::real[] FROM generate_series(1, 64) d) a
          FROM generate_series(1, 3000) i) s;
INSERT INTO pv VALUES (0, array_fill(0, ARRAY[64])::vector(64), array_fill(0, ARRAY[64])::vector(64)::halfvec(64));
SQL
same=$(sql -d casts <<'SQL'
SELECT bool_and(v::int8vec = v::real[]::int8vec AND v::int8vec(64) = v::real[]::int8vec(64)
            AND h::int8vec = h::real[]::int8vec AND v::bitvec = bitvec_quantize(v::real[])
            AND h::bitvec(64) = bitvec_quantize(h::real[])
            AND (v::int8vec)::vector = (v::int8vec)::real[]::vector)
  FROM pv;
SQL
)
[ "$same" = t ] || fail "a cast from pgvector's types differs from its real[] form"
echo "vector and halfvec cast to int8vec and bitvec as their real[] forms do, and int8vec back to vector (3,001 rows)"

expect_error casts 'expected 3 dimensions for int8vec, not 2' "SELECT '[1,2]'::vector::int8vec(3)"
expect_error casts 'expected 3 dimensions for bitvec, not 2' "SELECT '[1,2]'::halfvec::bitvec(3)"
sql -d casts -q -c "CREATE TABLE q (id int, e int8vec(64), b bitvec(64))" \
    -c "INSERT INTO q SELECT id, v, h FROM pv" \
    -c "INSERT INTO q VALUES (-1, '[1,2,3]'::vector(3)::vector, NULL)" 2>"$work/assign.err" && fail "an assignment with 3 dimensions into int8vec(64)"
grep -q 'expected 64 dimensions for int8vec, not 3' "$work/assign.err" || fail "$(cat "$work/assign.err")"
[ "$(sql -d casts -c "SELECT count(*) FROM q JOIN pv USING (id) WHERE q.e = pv.v::int8vec AND q.b = pv.h::bitvec")" = 3001 ] ||
    fail "assignment casts"
echo "INSERT ... SELECT assigns vector and halfvec to int8vec(64) and bitvec(64); wrong dimensions are errors"

# Queries as pgvector users write them: the query vector a vector literal or parameter.
sql -d casts -q -c "CREATE INDEX q_e ON q USING quantvec (e int8vec_cosine_ops)" -c "ANALYZE q"
plan=$(sql -d casts -c "EXPLAIN (COSTS OFF) SELECT id FROM q ORDER BY e <=> '[$(seq -s, 1 64)]'::vector LIMIT 10")
echo "$plan" | grep -q "Index Scan using q_e" || fail "a vector literal does not reach the index: $plan"
plan=$(sql -d casts -c "PREPARE nearest(vector) AS SELECT id FROM q ORDER BY e <=> \$1 LIMIT 10" \
    -c "EXPLAIN (COSTS OFF) EXECUTE nearest('[$(seq -s, 1 64)]')")
echo "$plan" | grep -q "Index Scan using q_e" || fail "a vector parameter does not reach the index: $plan"
answers() {
    sql -d casts <<SQL
SET quantvec.probes = 1000000;
SELECT string_agg((SELECT string_agg(id::text, ',') FROM (SELECT id FROM q ORDER BY e <=> $1 LIMIT 10) s), ' ' ORDER BY p.id)
  FROM pv p WHERE p.id % 150 = 7;
SQL
}
# shellcheck disable=SC2016 # the operands are SQL
[ "$(answers 'p.v')" = "$(answers 'p.v::real[]')" ] || fail "vector and real[] queries return different rows"
echo "a vector query (literal or parameter) uses the index and returns the rows of the same real[] query (20 queries)"
echo "$plan" | grep "Order By:" | grep -vq "real\[\]" || fail "a vector parameter is cast where int8vec <=> vector takes it as it is: $plan"
# (The same computation: equal to the last bit, NaN for the zero vector's cosine included,
# which PostgreSQL's = takes as equal.)
same=$(sql -d casts -c "SELECT bool_and((q.e <-> p.v) = (q.e <-> p.v::real[]) AND (q.e <#> p.v) = (q.e <#> p.v::real[])
                                         AND (q.e <=> p.v) = (q.e <=> p.v::real[]))
                          FROM q, pv p WHERE p.id % 300 = 0")
[ "$same" = t ] || fail "int8vec <op> vector differs from int8vec <op> real[]"
# A prepared statement with a vector parameter settles on a generic plan after its first
# executions (one with a cast parameter too: both are shown).
plans=$(sql -d casts <<SQL | tail -1
PREPARE by_vector(vector) AS SELECT id FROM q ORDER BY e <=> \$1 LIMIT 10;
PREPARE by_cast(text) AS SELECT id FROM q ORDER BY e <=> \$1::vector::real[] LIMIT 10;
$(for i in 1 2 3 4 5 6 7 8; do echo "EXECUTE by_vector('[$(seq -s, "$i" $((i + 63)))]'); EXECUTE by_cast('[$(seq -s, "$i" $((i + 63)))]');"; done)
SELECT string_agg(name || ':' || generic_plans || '/' || custom_plans, ' ' ORDER BY name) FROM pg_prepared_statements;
SQL
)
echo "$plans" | grep -Eq "by_vector:[1-9][0-9]*/5" || fail "a vector parameter is planned anew each time (generic/custom plans): $plans"
echo "int8vec <-> <#> <=> vector equal the real[] operators; generic/custom plans after 8 executions: $plans"

# Converting a vector column: ALTER TABLE (the assignment cast) and the online migration.
sql -d casts -q -c "CREATE TABLE conv AS SELECT id, v FROM pv" -c "ALTER TABLE conv ALTER COLUMN v TYPE int8vec(64)"
[ "$(sql -d casts -c "SELECT count(*) FROM conv JOIN pv USING (id) WHERE conv.v = pv.v::int8vec")" = 3001 ] || fail "ALTER TABLE ... TYPE int8vec(64)"
sql -d casts -q -c "CREATE TABLE online AS SELECT id, v FROM pv" \
    -c "CALL quantvec_migrate('online', 'v', 'v_q', 'int8vec(64)')" \
    -c "CALL quantvec_migrate('online', 'v', 'v_q', swap => true)" 2>/dev/null
[ "$(sql -d casts -c "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'online'::regclass AND attname = 'v'")" = "int8vec(64)" ] ||
    fail "quantvec_migrate of a vector column"
[ "$(sql -d casts -c "SELECT count(*) FROM online JOIN pv USING (id) WHERE online.v = pv.v::int8vec")" = 3001 ] || fail "quantvec_migrate's values"
echo "vector columns convert to int8vec(64) with ALTER TABLE and with quantvec_migrate"

# Dumps keep the casts; pgvector cannot be dropped from under them.
install -d -o postgres -g postgres "$work/dump"
as_postgres "$PG_BIN/pg_dump" -h "$work/cluster/socket" -p "$port" -U postgres -Fc -f "$work/dump/casts.dump" casts
sql -d postgres -c "CREATE DATABASE restored"
as_postgres "$PG_BIN/pg_restore" -h "$work/cluster/socket" -p "$port" -U postgres -d restored "$work/dump/casts.dump"
[ "$(sql -d restored -c "SELECT count(*) FROM q JOIN pv USING (id) WHERE q.e = pv.v::int8vec AND q.b = pv.h::bitvec")" = 3001 ] ||
    fail "the restored database's casts"
expect_error restored 'extension quantvec_pgvector depends on extension vector' "DROP EXTENSION vector"
sql -d restored -c "DROP EXTENSION quantvec_pgvector"
expect_error restored 'cannot cast type vector to int8vec' "SELECT '[1,2]'::vector::int8vec"
echo "pg_dump/pg_restore keeps the casts; DROP EXTENSION vector is refused while quantvec_pgvector needs it"
echo "pgvector: passed (pgvector $available)"
