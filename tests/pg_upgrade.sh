#!/usr/bin/env bash
# pg_upgrade across major versions with quantvec tables and indexes in place: a cluster of
# the old version (PG_UPGRADE_FROM, a pg_config; default 16) is upgraded to the version of
# PG_CONFIG (default 18) with the index files copied as they are. On the
# new server the values are identical, the indexes check clean and answer every query
# with the rows they answered before, and they take inserts and vacuum. One has a text label
# column, stored as hashtext's values: PostgreSQL keeps its hash functions across versions
# (hash partitions rely on it), and the filtered answers show it.
# Both versions need quantvec installed (bash scripts/install.sh with each PG_CONFIG).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh
# (Not from Debian's 15.20 to the PyPI 18.6: 15.20 is the newer minor release and keeps
# column options, pg_attver, that 18.6 does not know, for every table, quantvec's or not.)
old_bin=$("${PG_UPGRADE_FROM:-$(pg_config_of 16)}" --bindir)
PG_CONFIG=${PG_CONFIG:-$(pg_config_of 18)}
new_bin=$("$PG_CONFIG" --bindir)
source scripts/cluster.sh

work=/tmp/quantvec-pg-upgrade
port=${PG_UPGRADE_PORT:-54363}
trap 'PG_BIN=$old_bin cluster_stop $work/old; PG_BIN=$new_bin cluster_stop $work/new' EXIT
rm -rf "$work"

PG_BIN=$old_bin cluster_start "$work/old" "$port"
sql_old() { PG_BIN=$old_bin cluster_psql "$work/old" -d postgres -At "$@"; }
from=$(sql_old -c "SHOW server_version")
sql_old -q <<'SQL'
CREATE EXTENSION quantvec;
CREATE TABLE items (id int PRIMARY KEY, e int8vec(96), b bitvec(96));
INSERT INTO items
SELECT i, v::int8vec(96), bitvec_quantize(v)::bitvec(96)
  FROM (SELECT i, (SELECT array_agg(sin(i * 0.37 + d * 1.3) + cos(i * 0.011 * d))::real[] FROM generate_series(1, 96) d) v
          FROM generate_series(1, 6000) i) s;
CREATE INDEX items_cos ON items USING quantvec (e int8vec_cosine_ops) WITH (lists = 40);
CREATE INDEX items_l2 ON items USING quantvec (e int8vec_l2_ops);
CREATE INDEX items_ham ON items USING quantvec (b bitvec_hamming_ops);
CREATE INDEX items_tag ON items USING quantvec (e int8vec_cosine_ops, ('tag' || id % 6)) WITH (lists = 40);
DELETE FROM items WHERE id % 7 = 0;
VACUUM items;
SQL

# Every index's answers to 20 queries, default settings and all lists probed, and the values.
answers() {
    "$@" <<'SQL'
SET enable_seqscan = off;
SELECT md5(string_agg(concat_ws('|', id, int8vec_send(e), bitvec_send(b)), ',' ORDER BY id)) FROM items;
SELECT q.id, (SELECT string_agg(id::text, ',') FROM (SELECT id FROM items ORDER BY e <=> q.e::real[] LIMIT 10) s),
             (SELECT string_agg(id::text, ',') FROM (SELECT id FROM items ORDER BY e <-> q.e::real[] LIMIT 10) s),
             (SELECT string_agg(d::text, ',') FROM (SELECT b <~> q.b AS d FROM items ORDER BY b <~> q.b LIMIT 10) s),
             (SELECT string_agg(id::text, ',') FROM (SELECT id FROM items WHERE 'tag' || id % 6 = 'tag' || q.id % 6 ORDER BY e <=> q.e::real[] LIMIT 10) s)
  FROM items q WHERE q.id % 300 = 1 ORDER BY q.id;
SET quantvec.probes = 1000000;
SELECT q.id, (SELECT string_agg(id::text, ',') FROM (SELECT id FROM items ORDER BY e <=> q.e::real[] LIMIT 10) s)
  FROM items q WHERE q.id % 300 = 1 ORDER BY q.id;
SQL
}
before=$(answers sql_old)
PG_BIN=$old_bin cluster_stop "$work/old"

# The new cluster: initdb'd as the old one was, then upgraded into (pg_upgrade runs as
# postgres, in a directory it may write, with sockets of its own).
PG_BIN=$new_bin cluster_start "$work/new" "$port"
PG_BIN=$new_bin cluster_stop "$work/new"
# 18's initdb turns data checksums on; pg_upgrade needs the old cluster's setting (off).
if as_postgres "$new_bin/pg_controldata" "$work/new/data" | grep -q '^Data page checksum version: *[1-9]'; then
    as_postgres "$new_bin/pg_checksums" --disable -D "$work/new/data" >/dev/null 2>&1
fi
install -d -o postgres -g postgres "$work/upgrade"
if ! (cd "$work/upgrade" && as_postgres "$new_bin/pg_upgrade" --old-bindir="$old_bin" --new-bindir="$new_bin" \
    --old-datadir="$work/old/data" --new-datadir="$work/new/data" --socketdir="$work/upgrade" \
    --old-port="$port" --new-port="$port" --copy >"$work/upgrade/pg_upgrade.log" 2>&1); then
    cat "$work/upgrade/pg_upgrade.log"
    find "$work/new/data" -path '*pg_upgrade_output.d*' -name '*.log' -exec tail -n 20 {} + 2>/dev/null || true
    exit 1
fi
as_postgres "$new_bin/pg_ctl" -D "$work/new/data" -l "$work/new/data/server.log" -w start >/dev/null
sql_new() { PG_BIN=$new_bin cluster_psql "$work/new" -d postgres -At "$@"; }
to=$(sql_new -c "SHOW server_version")
echo "pg_upgrade from $from to $to: done"

after=$(answers sql_new)
if [ "$after" != "$before" ]; then
    diff <(echo "$before") <(echo "$after") | head -20
    echo "FAILED: the upgraded indexes answer differently"
    exit 1
fi
echo "the values and every index's answers to 20 queries are the same as before the upgrade"
for index in items_cos items_l2 items_ham items_tag; do
    sql_new -c "SELECT * FROM quantvec_index_check('$index')" >/dev/null
done
sql_new -q <<'SQL'
INSERT INTO items
SELECT i, v::int8vec(96), bitvec_quantize(v)::bitvec(96)
  FROM (SELECT i, (SELECT array_agg(cos(i * 0.21 + d))::real[] FROM generate_series(1, 96) d) v
          FROM generate_series(6001, 7000) i) s;
DELETE FROM items WHERE id % 5 = 0;
VACUUM items;
SQL
PG_BIN=$new_bin cluster_index_matches_heap "$work/new" items items_cos >/dev/null
PG_BIN=$new_bin cluster_index_matches_heap "$work/new" items items_l2 >/dev/null
PG_BIN=$new_bin cluster_index_matches_heap "$work/new" items items_tag "'tag' || id % 6 = 'tag3'" >/dev/null
echo "after inserts, deletes and vacuum on $to the indexes check clean and find every row"
echo "pg_upgrade: passed"
