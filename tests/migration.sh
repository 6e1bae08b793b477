#!/usr/bin/env bash
# Online migration: quantvec_migrate converts a real[] column of a table under a write
# load to int8vec in committed batches; it is canceled once and its backend killed with
# SIGKILL once, and resumed each time. At the end every row's int8vec equals its float
# original (rows written during the migration too), the index over it is consistent and
# the columns are swapped.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cluster.sh

work=/tmp/quantvec-migration
port=${MIGRATION_PORT:-54341}
writer=
trap 'stop_writer; cluster_stop $work' EXIT
cluster_start "$work" "$port" "max_connections = 20" "restart_after_crash = on"
sql() { cluster_psql "$work" -d postgres -At "$@"; }

sql <<'SQL'
CREATE EXTENSION quantvec;
CREATE TABLE docs (id bigserial PRIMARY KEY, emb real[], note text);
INSERT INTO docs (emb, note)
SELECT (SELECT array_agg(sin(i * 0.01 * d) + cos(d))::real[] FROM generate_series(1, 64) d), 'row ' || i
  FROM generate_series(1, 40000) i;
INSERT INTO docs (emb, note) VALUES (NULL, 'no vector');
SQL
echo "table: $(sql -c "SELECT pg_relation_size('docs') / 8192") blocks"

cat >"$work/write.sql" <<'SQL'
\set id random(1, 40000)
INSERT INTO docs (emb, note) SELECT (SELECT array_agg(random())::real[] FROM generate_series(1, 64)), 'written during migration';
UPDATE docs SET emb = (SELECT array_agg(random() - 0.5)::real[] FROM generate_series(1, 64)) WHERE id = :id;
SQL
chown postgres "$work/write.sql"
stop_writer() {
    kill $writer 2>/dev/null || true
    pkill -f "pgbench.*-p $port" 2>/dev/null || true
    wait $writer 2>/dev/null || true
}
start_writer() {
    as_postgres "$PG_BIN/pgbench" -n -h "$work/socket" -p "$port" -U postgres -c 2 -T 600 -f "$work/write.sql" postgres >"$work/writer.log" 2>&1 &
    writer=$!
}
start_writer
sleep 1

# The migration's backend, once it has committed a batch past block $1.
migrating_pid() {
    for _ in $(seq 1 200); do
        pid=$(sql -c "SELECT pid FROM pg_stat_activity WHERE query LIKE 'CALL quantvec_migrate%' AND pid <> pg_backend_pid()")
        progress=$(sql -c "SELECT coalesce(max(next_block), 0) FROM quantvec_migrations")
        [ -n "$pid" ] && [ "$progress" -gt "$1" ] && { echo "$pid"; return; }
        sleep 0.05
    done
    echo "FAILED: the migration is not running" >&2; exit 1
}

# 1. Canceled (pg_cancel_backend) partway through.
sql -c "CALL quantvec_migrate('docs', 'emb', 'emb_q', batch_blocks => 10)" >/dev/null 2>"$work/cancel.log" &
migrating=$!
victim=$(migrating_pid 0)
sql -c "SELECT pg_cancel_backend($victim)" >/dev/null
if wait $migrating; then echo "FAILED: the migration finished before it was canceled; make the table bigger"; exit 1; fi
grep -q "canceling statement due to user request" "$work/cancel.log" || { cat "$work/cancel.log"; exit 1; }
echo "after cancel: $(sql -c "SELECT state || ', block ' || next_block || ' of ' || total_blocks || ', ' || converted || ' rows' FROM quantvec_migrations")"

# 2. Its backend killed with SIGKILL partway through (the server restarts all sessions).
done_blocks=$(sql -c "SELECT next_block FROM quantvec_migrations")
sql -c "CALL quantvec_migrate('docs', 'emb', 'emb_q', batch_blocks => 10)" >/dev/null 2>&1 &
migrating=$!
victim=$(migrating_pid "$((done_blocks + 100))")
kill -9 "$victim"
wait $migrating || true
stop_writer
for _ in $(seq 1 100); do sql -c "SELECT 1" >/dev/null 2>&1 && break; sleep 0.2; done
echo "after kill -9 and restart: $(sql -c "SELECT state || ', block ' || next_block || ' of ' || total_blocks || ', ' || converted || ' rows' FROM quantvec_migrations")"
start_writer
sleep 1

# 3. Resumed to the end, with an index, while the writers go on.
sql -c "CALL quantvec_migrate('docs', 'emb', 'emb_q', batch_blocks => 200, index_ops => 'int8vec_cosine_ops')" 2>&1 | tail -2
stop_writer
grep -q "ERROR" "$work/writer.log" && { grep ERROR "$work/writer.log" | head -3; echo "FAILED: writes failed during the migration"; exit 1; }

result=$(sql <<'SQL'
SELECT format('%s rows, %s written during the migration, %s mismatches, %s missing, state %s',
  count(*), count(*) FILTER (WHERE note = 'written during migration'),
  count(*) FILTER (WHERE emb_q IS DISTINCT FROM emb::int8vec(64)),
  count(*) FILTER (WHERE emb_q IS NULL AND emb IS NOT NULL),
  (SELECT state FROM quantvec_migrations))
FROM docs;
SQL
)
echo "$result"
echo "$result" | grep -q ", 0 mismatches, 0 missing, state filled" || { echo "FAILED: rows differ from their floats"; exit 1; }

# 4. The swap, once the application is ready for it.
sql -c "SELECT * FROM quantvec_index_check('docs_emb_q_idx')"
sql -c "CALL quantvec_migrate('docs', 'emb', 'emb_q', swap => true)" 2>&1 | tail -1
[ "$(sql -c "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'docs'::regclass AND attname = 'emb'")" = "int8vec(64)" ] || { echo "FAILED: no swap"; exit 1; }
sql -c "SELECT * FROM quantvec_index_check('docs_emb_q_idx')"

# 5. Nothing stuck: the extension in a schema that is not on the search_path, names that
# need quoting, a start that fails leaves the table as it was, and values the migration
# cannot convert never fail the application's writes: they are counted and reported.
elsewhere() { cluster_psql "$work" -d elsewhere -At "$@"; }
sql -c "CREATE DATABASE elsewhere"
elsewhere <<'SQL'
CREATE SCHEMA qv;
CREATE EXTENSION quantvec SCHEMA qv;
CREATE TABLE "My Docs" (id int PRIMARY KEY, "the emb" real[]);
INSERT INTO "My Docs" SELECT i, ARRAY[sin(i), cos(i), 1, -1]::real[] FROM generate_series(1, 2000) i;
SQL
state() { elsewhere -c "SELECT (SELECT count(*) FROM pg_attribute WHERE attrelid = '\"My Docs\"'::regclass AND attnum > 0 AND NOT attisdropped)
                               || ' columns, ' || (SELECT count(*) FROM pg_trigger WHERE tgrelid = '\"My Docs\"'::regclass) || ' triggers, '
                               || (SELECT count(*) FROM qv.quantvec_migrations) || ' jobs'"; }
as_it_was=$(state)
for bad in "target_type => 'int8vec(16)'" "target_type => 'int8vec(4); DROP TABLE \"My Docs\"'" "target_type => 'text'" \
           "index_ops => 'int8vec_cosine_ops); DROP TABLE x; --'" "batch_blocks => 0"; do
    if elsewhere -c "CALL qv.quantvec_migrate('\"My Docs\"', 'the emb', 'the q', $bad)" 2>>"$work/refused.log" >/dev/null; then
        echo "FAILED: quantvec_migrate accepted $bad"; exit 1
    fi
    [ "$(state)" = "$as_it_was" ] || { echo "FAILED: a refused start ($bad) changed the table: $(state)"; exit 1; }
done
echo "refused starts leave the table as it was ($as_it_was):"
sed 's/^/  /' "$work/refused.log"
elsewhere -c "CALL qv.quantvec_migrate('\"My Docs\"', 'the emb', 'the q', 'INT8VEC(4)', batch_blocks => 5, index_ops => 'int8vec_cosine_ops')" >/dev/null 2>&1
# The application writes values no int8vec(4) can hold while the migration is under way.
elsewhere -c "INSERT INTO \"My Docs\" VALUES (2001, '{1,2,3}'), (2002, '{NaN,1,1,1}'), (2003, '{}'), (2004, '{1,2,3,4}')" \
          -c "UPDATE \"My Docs\" SET \"the emb\" = '{Infinity,0,0,0}' WHERE id = 7"
elsewhere -c "CALL qv.quantvec_migrate('\"My Docs\"', 'the emb', 'the q', swap => true)" 2>"$work/swap.log" >/dev/null
grep -q "4 rows of \"My Docs\" could not be converted" "$work/swap.log" || { cat "$work/swap.log"; echo "FAILED: unconverted rows not reported"; exit 1; }
sed 's/^/  /' "$work/swap.log"
[ "$(elsewhere -c "SELECT unconverted || ' ' || state FROM qv.quantvec_migrations")" = "4 swapped" ] || { echo "FAILED: unconverted rows not counted"; exit 1; }
[ "$(elsewhere -c "SELECT count(*) FROM \"My Docs\" WHERE \"the emb\" IS NOT NULL")" = 2000 ] || { echo "FAILED: converted rows"; exit 1; }
[ "$(elsewhere -c "SELECT count(*) FROM pg_trigger WHERE tgrelid = '\"My Docs\"'::regclass")" = 0 ] || { echo "FAILED: the trigger was left"; exit 1; }
elsewhere -c "SELECT * FROM qv.quantvec_index_check('\"My Docs_the q_idx\"')" >/dev/null
[ "$(elsewhere -c "SELECT round((qv.int8vec_calibrate(\"the emb_float\")).scale::numeric, 6) > 0 FROM \"My Docs\" WHERE id <= 100 AND id <> 7")" = t ] ||
    { echo "FAILED: calibration outside the search_path"; exit 1; }
echo "migration with the extension outside the search_path: 2000 rows converted, 4 unconvertible rows written meanwhile counted and reported"
echo "migration: passed"
