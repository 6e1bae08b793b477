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
echo "migration: passed"
