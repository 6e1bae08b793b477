#!/usr/bin/env bash
# Corrupted index pages: copies of one table, each with its own quantvec index, have their
# index files damaged while the server is down (random bytes flipped, a block zeroed or
# overwritten with noise, the metapage or a page's link rewritten, a link pointing back at
# its own page), seeded so that a failure can be replayed (CORRUPTION_SEED). Then each
# index is checked, scanned (every list probed), inserted into and vacuumed, each statement
# under a timeout. Passing means: the server never crashes and no statement hangs; every
# ERROR names the index (in its message or its CONTEXT); and an index whose check passes
# answers exactly as a sequential scan does (damage the check cannot see is harmless).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cluster.sh

work=/tmp/quantvec-corruption
port=${CORRUPTION_PORT:-54357}
copies=${CORRUPTION_COPIES:-40}
seed=${CORRUPTION_SEED:-42}
trap 'cluster_stop $work' EXIT
cluster_start "$work" "$port" "restart_after_crash = off"
sql() { cluster_psql "$work" -d postgres -At "$@"; }

sql <<SQL
CREATE EXTENSION quantvec;
CREATE TABLE source (id int, e int8vec(48), b bitvec(48));
INSERT INTO source SELECT i, v, bitvec_quantize(v)
  FROM (SELECT i, (SELECT array_agg(sin(i * 0.37 * d) + cos(i + d))::real[] FROM generate_series(1, 48) d) v
          FROM generate_series(1, 3000) i) s;
DO \$\$
BEGIN
    FOR c IN 1..$copies LOOP
        EXECUTE format('CREATE TABLE copy%s AS TABLE source', c);
        EXECUTE format('CREATE INDEX copy%s_idx ON copy%s USING quantvec (%s) WITH (lists = 12)', c, c,
                       (ARRAY['e int8vec_l2_ops', 'e int8vec_cosine_ops', 'e int8vec_ip_ops', 'b bitvec_hamming_ops'])[c % 4 + 1]);
    END LOOP;
END
\$\$;
CHECKPOINT;
SQL
files=$(sql -c "SELECT string_agg(pg_relation_filepath(format('copy%s_idx', c)), ' ' ORDER BY c) FROM generate_series(1, $copies) c")
as_postgres "$PG_BIN/pg_ctl" -D "$work/data" -m fast -w stop >/dev/null

python3 - "$work/data" "$seed" $files <<'PY'
import os, random, struct, sys
data, seed, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
BLOCK = 8192
for n, name in enumerate(files, 1):
    rng = random.Random(seed * 1000 + n)
    path = os.path.join(data, name)
    pages = bytearray(open(path, 'rb').read())
    blocks = len(pages) // BLOCK
    block = rng.randrange(blocks)
    at = block * BLOCK
    mode = n % 6
    if mode == 0:    # random bytes flipped anywhere
        for _ in range(rng.randint(1, 40)):
            pages[rng.randrange(len(pages))] ^= 1 << rng.randrange(8)
        what = 'bytes flipped'
    elif mode == 1:  # a block of zeros
        pages[at:at + BLOCK] = bytes(BLOCK)
        what = f'block {block} zeroed'
    elif mode == 2:  # a block of noise
        pages[at:at + BLOCK] = bytes(rng.randrange(256) for _ in range(BLOCK))
        what = f'block {block} overwritten with noise'
    elif mode == 3:  # the metapage's fields
        for _ in range(rng.randint(1, 6)):
            pages[24 + rng.randrange(64)] = rng.randrange(256)
        what = 'metapage fields'
    elif mode == 4:  # a page's link (special space) to anywhere
        struct.pack_into('=I', pages, at + BLOCK - 8, rng.choice([block, rng.randrange(1 << 32), blocks + 5]))
        what = f'link of block {block}'
    else:            # the data of a page, where block links and vector slots live
        for _ in range(rng.randint(1, 20)):
            pages[at + 24 + rng.randrange(BLOCK - 32)] = rng.randrange(256)
        what = f'data of block {block}'
    open(path, 'wb').write(pages)
    print(f'copy{n}_idx: {what}')
PY
as_postgres "$PG_BIN/pg_ctl" -D "$work/data" -l "$work/data/server.log" -w start >/dev/null

crashed() { grep -qE "terminated by signal|was terminated|PANIC" "$work/data/server.log"; }
# Runs one statement on copy $1 under a timeout; prints ok, or the error. Fails (status 1,
# with what went wrong) on a crash, a hang, or an error that does not name the index.
run() {
    local out
    if out=$(sql -c "SET statement_timeout = '20s'" -c "SET quantvec.probes = 1000000" -c "$2" 2>&1); then
        echo ok
        return 0
    fi
    if crashed || ! grep -q "^ERROR\|^psql:.*ERROR" <<<"$out"; then
        echo "$out"; echo "FAILED: the server crashed on copy$1: $2"; return 1
    fi
    if grep -q "statement timeout" <<<"$out"; then
        echo "FAILED: copy$1 hangs: $2"; return 1
    fi
    if ! grep -q "copy$1_idx" <<<"$out"; then
        echo "$out"; echo "FAILED: an ERROR that does not name copy$1_idx: $2"; return 1
    fi
    grep -m1 "ERROR" <<<"$out" | sed 's/^psql:[^E]*//'
}
must() { # the output of run; or what went wrong, on stderr, and the script stops
    local out
    out=$(run "$@") || { echo "$out" >&2; exit 1; }
    echo "$out"
}
clean=0 caught=0
for c in $(seq 1 "$copies"); do
    read -r column op < <(sql -F ' ' -c "SELECT a.attname, CASE o.opcname WHEN 'bitvec_hamming_ops' THEN '<~>' WHEN 'int8vec_cosine_ops' THEN '<=>'
                                                       WHEN 'int8vec_ip_ops' THEN '<#>' ELSE '<->' END
                                          FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                                          JOIN pg_opclass o ON o.oid = i.indclass[0] WHERE i.indexrelid = 'copy${c}_idx'::regclass")
    check=$(must "$c" "SELECT * FROM quantvec_index_check('copy${c}_idx')")
    scan="SELECT string_agg(id::text, ',' ORDER BY id) FROM (SELECT id FROM copy$c ORDER BY $column $op (SELECT $column FROM source WHERE id = 17) LIMIT 5000) s"
    by_index=$(must "$c" "SET enable_seqscan = off; $scan")
    by_index_rows=$(sql -c "SET quantvec.probes = 1000000" -c "SET enable_seqscan = off" -c "$scan" 2>/dev/null || echo error)
    by_heap=$(sql -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM copy$c")
    insert=$(must "$c" "INSERT INTO copy$c SELECT id + 10000, e, b FROM source WHERE id <= 50")
    sql -c "DELETE FROM copy$c WHERE id % 7 = 0"
    vacuum=$(must "$c" "VACUUM copy$c")
    if [ "$check" = ok ]; then
        [ "$by_index" = ok ] && [ "$by_index_rows" = "$by_heap" ] ||
            { echo "FAILED: copy${c}_idx checks clean but its scan differs from the table: $by_index"; exit 1; }
        clean=$((clean + 1))
        echo "copy${c}_idx: checks clean and answers as the table does; insert: $insert; vacuum: $vacuum"
    else
        caught=$((caught + 1))
        echo "copy${c}_idx: $check; scan: $by_index; insert: $insert; vacuum: $vacuum"
    fi
done
crashed && { echo "FAILED: the server crashed"; exit 1; }
echo "$copies corrupted indexes: $caught refused with an ERROR naming the index, $clean unharmed (check clean, same answers); no crash, no hang"
echo "corruption: passed"
