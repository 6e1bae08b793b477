#!/usr/bin/env bash
# pg_dump/pg_restore round trip: tables with int8vec, int4vec and bitvec columns (declared and
# undeclared dimensions, NULLs, extreme codes) and quantvec indexes (two with an expression as
# their label column, an int4 and a text one) restore with identical bytes and typmods and working indexes, through
# both the custom and the plain format.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cluster.sh

work=/tmp/quantvec-dump
port=${DUMP_PORT:-54331}
trap 'cluster_stop $work/cluster' EXIT
cluster_start "$work/cluster" "$port"
install -d -o postgres -g postgres "$work/files"
sql() { cluster_psql "$work/cluster" -At "$@"; }

sql -d postgres -c "CREATE DATABASE source"
sql -d source <<'SQL'
CREATE EXTENSION quantvec;
CREATE TABLE items (id int PRIMARY KEY, q int8vec(384), b bitvec(384), free int8vec, bits bitvec, q4 int4vec(384), free4 int4vec);
INSERT INTO items
SELECT i,
       (SELECT array_agg(sin(i * 7.1 + d) * (1 + i % 5))::real[] FROM generate_series(1, 384) d),
       (SELECT bitvec_quantize(array_agg(cos(i * 3.3 + d))::real[]) FROM generate_series(1, 384) d),
       CASE WHEN i % 10 = 0 THEN NULL ELSE (SELECT array_agg(d * 1e-20 * i)::real[] FROM generate_series(1, 1 + i % 17) d)::int8vec END,
       CASE WHEN i % 7 = 0 THEN NULL ELSE repeat('10', 1 + i % 33)::bitvec END,
       (SELECT array_agg(cos(i * 1.7 + d) * (1 + i % 3))::real[] FROM generate_series(1, 384) d),
       CASE WHEN i % 9 = 0 THEN NULL ELSE (SELECT array_agg(d * 1e-20 * i)::real[] FROM generate_series(1, 1 + i % 19) d)::int4vec END
FROM generate_series(1, 2000) i;
INSERT INTO items VALUES (0, int8vec_from_codes(array_fill(-128, ARRAY[384]), 3.4e38, 127),
                          repeat('1', 384)::bitvec, '(1e-45,-128)[127]', '1',
                          int4vec_from_codes(array_fill(15, ARRAY[384]), 3.4e38, 0), '(1e-45,15)[0,15,7]');
CREATE INDEX items_q ON items USING quantvec (q int8vec_cosine_ops) WITH (lists = 20);
CREATE INDEX items_b ON items USING quantvec (b);
-- A label column that is an expression.
CREATE INDEX items_q4 ON items USING quantvec (q4, (id % 10)) WITH (lists = 10);
CREATE INDEX items_b_tag ON items USING quantvec (b, ('tag' || id % 5)) WITH (lists = 10);
SQL
checksum() {
    sql -d "$1" -c "SELECT md5(string_agg(concat_ws('|', id, int8vec_send(q), bitvec_send(b), int8vec_send(free), bitvec_send(bits), int4vec_send(q4), int4vec_send(free4)), ',' ORDER BY id))
                     || ' ' || (SELECT string_agg(format_type(atttypid, atttypmod), ',' ORDER BY attnum) FROM pg_attribute
                                WHERE attrelid = 'items'::regclass AND attnum > 0)
                    FROM items"
}
want=$(checksum source)
echo "source: $want"

as_postgres "$PG_BIN/pg_dump" -h "$work/cluster/socket" -p "$port" -U postgres -Fc -f "$work/files/source.dump" source
sql -d postgres -c "CREATE DATABASE restored_custom"
as_postgres "$PG_BIN/pg_restore" -h "$work/cluster/socket" -p "$port" -U postgres -d restored_custom "$work/files/source.dump"
got=$(checksum restored_custom)
echo "custom format restore: $got"
[ "$got" = "$want" ] || { echo "custom-format restore differs"; exit 1; }

as_postgres "$PG_BIN/pg_dump" -h "$work/cluster/socket" -p "$port" -U postgres -Fp -f "$work/files/source.sql" source
sql -d postgres -c "CREATE DATABASE restored_plain"
sql -d restored_plain -f "$work/files/source.sql" >/dev/null
got=$(checksum restored_plain)
echo "plain format restore: $got"
[ "$got" = "$want" ] || { echo "plain-format restore differs"; exit 1; }

# The restored databases work: their indexes are consistent and give the source's answers.
query="SET enable_seqscan = off; SET quantvec.probes = 1000; SET quantvec.rescore_factor = 1000;
       SELECT string_agg(id::text, ',') FROM (SELECT id FROM items ORDER BY q <=> (SELECT q FROM items WHERE id = 5) LIMIT 5) s"
labelled="SET enable_seqscan = off; SET quantvec.probes = 1000; SET quantvec.rescore_factor = 1000;
       SELECT string_agg(id::text, ',') FROM (SELECT id FROM items WHERE id % 10 = 3 ORDER BY q4 <-> (SELECT q4 FROM items WHERE id = 5) LIMIT 5) s"
tagged="SET enable_seqscan = off; SET quantvec.probes = 1000;
       SELECT string_agg(id::text, ',') FROM (SELECT id FROM items WHERE 'tag' || id % 5 = 'tag2' ORDER BY b <~> (SELECT b FROM items WHERE id = 5), id LIMIT 5) s"
plan=$(sql -d source -c "SET enable_seqscan = off" -c "EXPLAIN (COSTS OFF) SELECT id FROM items WHERE id % 10 = 3 ORDER BY q4 <-> (SELECT q4 FROM items WHERE id = 5) LIMIT 5")
echo "$plan" | grep -q "Index Cond: ((id % 10) = 3)" || { echo "the label expression is not the scan's condition:"; echo "$plan"; exit 1; }
for db in restored_custom restored_plain; do
    sql -d "$db" -c "SELECT * FROM quantvec_index_check('items_q')" -c "SELECT * FROM quantvec_index_check('items_b')" \
        -c "SELECT * FROM quantvec_index_check('items_q4')" -c "SELECT * FROM quantvec_index_check('items_b_tag')" >/dev/null
    [ "$(sql -d "$db" -c "$query" | tail -1)" = "$(sql -d source -c "$query" | tail -1)" ] || { echo "restored search differs in $db"; exit 1; }
    [ "$(sql -d "$db" -c "$labelled" | tail -1)" = "$(sql -d source -c "$labelled" | tail -1)" ] || { echo "restored filtered search differs in $db"; exit 1; }
    [ "$(sql -d "$db" -c "$tagged" | tail -1)" = "$(sql -d source -c "$tagged" | tail -1)" ] || { echo "restored text-label search differs in $db"; exit 1; }
done
echo "restored indexes are consistent and answer as the source's"
echo "dump/restore: identical"
