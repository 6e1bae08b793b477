#!/usr/bin/env bash
# SQL-level fuzzing against a running server: random and mutated text literals of int8vec,
# bitvec and float arrays cast to them (the input functions and casts), binary COPY rows and
# binary protocol parameters (the receive functions, and what casts, stores and compares
# the values). Every case must either succeed or fail with an ERROR; the server never
# crashes, and a column of fixed width never stores another. FUZZ_SQL_CASES (default 6,000
# literals, 600 COPY rows and 600 parameter sets) and FUZZ_SQL_SEED replay or extend a run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cluster.sh

work=/tmp/quantvec-fuzz-sql
port=${FUZZ_SQL_PORT:-54359}
cases=${FUZZ_SQL_CASES:-6000}
seed=${FUZZ_SQL_SEED:-7}
trap 'cluster_stop $work' EXIT
cluster_start "$work" "$port" "restart_after_crash = off" "log_min_messages = fatal"
sql() { cluster_psql "$work" -d postgres -At "$@"; }
sql -c "CREATE EXTENSION quantvec" -c "CREATE TABLE sink (v int8vec, b bitvec)" -c "CREATE TABLE sink8 (v int8vec(8), b bitvec(8))"
install -d -o postgres "$work/copy"

python3 - "$work" "$cases" "$seed" <<'PY'
import os, random, struct, sys
work, cases, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
numbers = ['0', '1', '-1', '1e20', '-3.4e38', '3.5e38', '1e-45', 'NaN', 'Infinity', '-inf', '1.5', '-0', '127', '-128',
           '128', '32767', '65536', '2147483648', '0x10', '1_0', '', ' ', '+', '.', 'e5', '9' * 400]
valid = False  # while building a case meant to be accepted
def number():
    return rng.choice(numbers) if rng.random() < 0.5 and not valid else repr(rng.uniform(-10, 10))
def listing(n):
    if n > 2000:  # at the dimension limits: cheap repeated components
        return ','.join([rng.choice(['1', '0.5', '-2'])] * n)
    return ','.join(number() for _ in range(n))
def literal():
    global valid
    valid = rng.random() < 0.4
    n = rng.choice([1, 2, 3, 8, 100, rng.randrange(1, 2000)] + ([] if valid else [0]))
    if rng.random() < 0.01:
        n = rng.choice([16000, 16001, 64000, 64001])
    kind = rng.randrange(5)
    if kind == 0:
        text = f'({number()},{number()})[{listing(n)}]'
    elif kind == 1:
        text = '[' + listing(n) + ']'
    elif kind == 2:
        text = '{' + listing(n) + '}'
    elif kind == 3:
        text = ''.join(rng.choice('01') for _ in range(n))
    else:
        text = ''.join(chr(rng.randrange(32, 127)) for _ in range(rng.randrange(30)))
    if kind == 0 and valid:
        text = f'({rng.uniform(1e-3, 1)},{rng.randrange(-128, 128)})[{",".join(str(rng.randrange(-128, 128)) for _ in range(n))}]'
    if valid:
        return text
    chars = list(text)
    for _ in range(rng.randrange(4)):  # mutations
        if chars and rng.random() < 0.5:
            del chars[rng.randrange(len(chars))]
        else:
            chars.insert(rng.randrange(len(chars) + 1), rng.choice('()[]{},.-+e019 \t\\x'))
    return ''.join(chars).replace('$', '')
with open(os.path.join(work, 'literals.sql'), 'w') as out:
    out.write('\\set ON_ERROR_STOP 0\n')
    targets = ['int8vec', 'bitvec', 'int8vec(8)', 'bitvec(8)', 'real[]::int8vec', 'real[]::bitvec', 'float8[]::int8vec']
    for _ in range(cases):
        out.write(f"SELECT $q${literal()}$q$::{rng.choice(targets)} IS NULL;\n")

def int8vec_wire():
    if rng.random() < 0.5:  # a valid value, of the sink's 8 dimensions or another width
        dims = rng.choice([8, 8, 1, 300, 16000])
        return struct.pack('>HbBf', dims, rng.randrange(-128, 128), 0, rng.uniform(1e-3, 1)) + bytes(rng.randrange(256) for _ in range(dims))
    dims = rng.choice([0, 1, 8, 300, 16000, 16001, 65535, rng.randrange(70000)]) & 0xffff
    scale = rng.choice([1.0, 0.0, -1.0, float('nan'), float('inf'), 1e-40, 3e38, rng.uniform(0, 2)])
    body = struct.pack('>HbBf', dims, rng.randrange(-128, 128), rng.choice([0, 0, 0, 1, 255]), scale)
    return body + bytes(rng.randrange(256) for _ in range(min(dims, 4000) + rng.choice([0, 0, -1, 1, -5])))
def bitvec_wire():
    if rng.random() < 0.5:
        dims = rng.choice([8, 8, 1, 13, 64000])
        packed = bytearray(rng.randrange(256) for _ in range((dims + 7) // 8))
        if dims % 8:
            packed[-1] &= 0xff << (8 - dims % 8) & 0xff
        return struct.pack('>i', dims) + bytes(packed)
    dims = rng.choice([0, 1, 8, 9, 64000, 64001, -1, -2**31, rng.randrange(1 << 17)])
    nbytes = (max(dims, 0) + 7) // 8
    return struct.pack('>i', dims) + bytes(rng.randrange(256) for _ in range(min(nbytes, 9000) + rng.choice([0, 0, -1, 1])))
def mutate(data):
    data = bytearray(data)
    for _ in range(rng.choice([0, 0, 0, 1, 2, 3])):
        if data:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return bytes(data)
copies = max(cases // 10, 1)
with open(os.path.join(work, 'copies.sql'), 'w') as out:
    out.write('\\set ON_ERROR_STOP 0\n')
    for n in range(copies):
        table = rng.choice(['sink', 'sink8'])
        fields = [mutate(int8vec_wire()), mutate(bitvec_wire())]
        row = struct.pack('>h', 2) + b''.join(struct.pack('>i', len(f)) + f for f in fields)
        if rng.random() < 0.1:
            row = row[:rng.randrange(len(row) + 1)]
        path = os.path.join(work, 'copy', f'{n}.bin')
        with open(path, 'wb') as f:
            f.write(b'PGCOPY\n\xff\r\n\x00' + struct.pack('>ii', 0, 0) + row + struct.pack('>h', -1))
        out.write(f"COPY {table} FROM '{path}' (FORMAT binary);\n")
# Binary protocol parameters, bound to statements that cast, store and compare them.
with open(os.path.join(work, 'params.txt'), 'w') as out:
    for _ in range(copies):
        v, b = mutate(int8vec_wire()), mutate(bitvec_wire())
        out.write(f"{rng.randrange(4)} {v.hex() or '-'} {b.hex() or '-'}\n")
PY
chown -R postgres "$work/copy" "$work/literals.sql" "$work/copies.sql"
for script in literals copies; do
    sql -f "$work/$script.sql" >"$work/$script.out" 2>"$work/$script.err" || true
    if grep -qE "terminated by signal|was terminated|PANIC" "$work/data/server.log" || ! sql -c "SELECT 1" >/dev/null 2>&1; then
        tail -5 "$work/$script.err"; echo "FAILED: the server crashed on $script (FUZZ_SQL_SEED=$seed)"; exit 1
    fi
    run=$(grep -c "" "$work/$script.sql")
    errors=$(grep -c "^psql:.*ERROR" "$work/$script.err" || true)
    others=$(grep -v "^psql:.*ERROR\|^LINE\|^ *\\^\|^DETAIL\|^HINT\|^CONTEXT\|^ *$" "$work/$script.err" | head -3 || true)
    [ -z "$others" ] || { echo "$others"; echo "FAILED: $script printed something other than ERRORs"; exit 1; }
    echo "$script: $((run - 1)) cases, $((run - 1 - errors)) accepted, $errors refused with an ERROR, no crash (FUZZ_SQL_SEED=$seed)"
done
# The parameters, over the protocol itself (psql sends text only): Parse, Bind in binary,
# Execute, Sync, one case at a time.
python3 - "$work/socket/.s.PGSQL.$port" "$work/params.txt" <<'PY' || { tail -3 "$work/data/server.log"; echo "FAILED: binary parameters (FUZZ_SQL_SEED=$seed)"; exit 1; }
import socket, struct, sys
statements = [b'SELECT $1::int8vec IS NULL, $2::bitvec IS NULL', b'INSERT INTO sink8 (v, b) VALUES ($1, $2)',
              b'SELECT $1::int8vec <-> $1::int8vec, $2::bitvec <~> $2::bitvec', b'SELECT $1::int8vec::bitvec, $2::bitvec::varbit']
sock = socket.socket(socket.AF_UNIX)
sock.connect(sys.argv[1])
def message(kind, payload):
    sock.sendall(kind + struct.pack('>i', len(payload) + 4) + payload)
def read(n):
    data = b''
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            sys.exit('the server closed the connection: it crashed')
        data += chunk
    return data
def until_ready():
    kinds = []
    while True:
        kind, length = struct.unpack('>ci', read(5))
        read(length - 4)
        kinds.append(kind)
        if kind == b'Z':
            return kinds
startup = struct.pack('>i', 196608) + b'user\0postgres\0database\0postgres\0\0'
sock.sendall(struct.pack('>i', len(startup) + 4) + startup)
until_ready()
accepted = refused = 0
for line in open(sys.argv[2]):
    which, *values = line.split()
    params = [b'' if v == '-' else bytes.fromhex(v) for v in values]
    message(b'P', b'\0' + statements[int(which)] + b'\0' + struct.pack('>h', 0))
    bind = b'\0\0' + struct.pack('>hh', 1, 1) + struct.pack('>h', len(params))
    bind += b''.join(struct.pack('>i', len(p)) + p for p in params) + struct.pack('>h', 0)
    message(b'B', bind)
    message(b'E', b'\0' + struct.pack('>i', 0))
    message(b'S', b'')
    kinds = until_ready()
    if b'E' in kinds:
        refused += 1
    elif b'C' in kinds:
        accepted += 1
    else:
        sys.exit(f'no result and no error: {kinds}')
print(f'binary parameters: {accepted + refused} cases, {accepted} accepted, {refused} refused with an ERROR, no crash', end='')
PY
echo " (FUZZ_SQL_SEED=$seed)"
grep -qE "terminated by signal|was terminated|PANIC" "$work/data/server.log" && { echo "FAILED: the server crashed"; exit 1; }
[ "$(sql -c "SELECT count(*) FROM sink8 WHERE dims(v) <> 8 OR dims(b) <> 8")" = 0 ] || { echo "FAILED: a value of the wrong width was stored"; exit 1; }
echo "SQL fuzzing: passed"
