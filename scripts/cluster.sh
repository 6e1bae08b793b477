# Source this file: functions to run a throwaway PostgreSQL cluster as the postgres user
# (Postgres refuses root) on a port and socket directory of its own, with the binaries of
# the version whose pg_config is PG_CONFIG (default: the system's PostgreSQL 15).
#
#   cluster_start DIR PORT [extra postgresql.conf lines...]   starts a cluster in DIR
#                                    (the server gets the environment in CLUSTER_ENV, if set)
#   cluster_psql DIR [psql args...]                           psql against it
#   cluster_stop DIR                                          stops it (fast shutdown)

PG_CONFIG=${PG_CONFIG:-/usr/bin/pg_config}
PG_BIN=${PG_BIN:-$("$PG_CONFIG" --bindir)}

as_postgres() {
    if [ "$(id -un)" = postgres ]; then "$@"; else sudo -u postgres -- "$@"; fi
}

cluster_start() {
    local dir=$1 port=$2
    shift 2
    rm -rf "$dir"
    install -d -o postgres -g postgres "$dir" "$dir/socket"
    as_postgres "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log"; return 1; }
    {
        echo "port = $port"
        echo "listen_addresses = ''"
        echo "unix_socket_directories = '$dir/socket'"
        echo "fsync = off"
        for line in "$@"; do echo "$line"; done
    } | as_postgres tee -a "$dir/data/postgresql.conf" >/dev/null
    echo "$port" >"$dir/port"
    as_postgres env ${CLUSTER_ENV:-} "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/data/server.log" -w start >/dev/null ||
        { cat "$dir/data/server.log"; return 1; }
}

# vectorchord_install: succeeds when VectorChord is installed in PG_CONFIG's PostgreSQL,
# after building and installing it (`make build && make install`, ~10 minutes on 2 cores)
# where it is not and VECTORCHORD_SRC names a checkout of tensorchord/VectorChord. A
# cluster that uses it needs shared_preload_libraries = 'vchord'.
vectorchord_install() {
    local log=/tmp/quantvec-vectorchord-build.log
    [ -f "$("$PG_CONFIG" --pkglibdir)/vchord.so" ] && return 0
    [ -n "${VECTORCHORD_SRC:-}" ] || return 1
    echo "== building VectorChord from $VECTORCHORD_SRC (make build && make install; log in $log)"
    (cd "$VECTORCHORD_SRC" && make build PG_CONFIG="$PG_CONFIG" && make install PG_CONFIG="$PG_CONFIG") >"$log" 2>&1 ||
        { tail -20 "$log"; return 1; }
}

# cluster_build_threads DIR: the threads a quantvec build takes on the cluster in DIR (its
# max_parallel_maintenance_workers + 1, within this machine's cores), which a peer's build
# is given too.
cluster_build_threads() {
    cluster_psql "$1" -d postgres -At -c "SELECT least(current_setting('max_parallel_maintenance_workers')::int + 1, $(nproc))"
}

# vectorchord_options DIR LISTS: vchordrq build options that match a quantvec index of LISTS
# lists on the cluster in DIR: the same lists, spherical centroids (for cosine), the same
# build threads.
vectorchord_options() {
    printf '[build.internal]\nlists = [%s]\nspherical_centroids = true\nbuild_threads = %s\n' "$2" "$(cluster_build_threads "$1")"
}

cluster_psql() {
    local dir=$1
    shift
    as_postgres "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir/socket" -p "$(cat "$dir/port")" -U postgres "$@"
}

cluster_stop() {
    local dir=$1
    [ -d "$dir/data" ] && as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

# cluster_index_matches_heap DIR TABLE INDEX [FILTER]: the index's check passes and an index
# scan (every list probed) finds exactly the rows of TABLE whose column e is not NULL (and
# that pass FILTER, a condition on a label column of INDEX, which the scan then uses).
cluster_index_matches_heap() {
    local dir=$1 table=$2 index=$3 filter=${4:-true} same
    cluster_psql "$dir" -d postgres -At -c "SELECT * FROM quantvec_index_check('$index')"
    same=$(cluster_psql "$dir" -d postgres -At <<SQL
SET quantvec.probes = 1000000;
SET enable_seqscan = off;
CREATE TEMP TABLE via_index AS SELECT id FROM $table WHERE $filter ORDER BY e <=> (SELECT e::real[] FROM $table ORDER BY id LIMIT 1);
RESET enable_seqscan;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
CREATE TEMP TABLE via_heap AS SELECT id FROM $table WHERE e IS NOT NULL AND $filter;
SELECT (SELECT count(*) FROM via_index) = (SELECT count(*) FROM via_heap)
   AND NOT EXISTS (SELECT id FROM via_index EXCEPT SELECT id FROM via_heap)
   AND NOT EXISTS (SELECT id FROM via_heap EXCEPT SELECT id FROM via_index);
SQL
)
    [ "$(echo "$same" | tail -1)" = t ] || { echo "FAILED: index scan and sequential scan of $table ($filter) disagree"; return 1; }
    if [ "$filter" != true ]; then
        local plan
        plan=$(cluster_psql "$dir" -d postgres -At -c "SET enable_seqscan = off" \
            -c "EXPLAIN (COSTS OFF) SELECT id FROM $table WHERE $filter ORDER BY e <=> (SELECT e::real[] FROM $table ORDER BY id LIMIT 1)")
        echo "$plan" | grep -q "Index Scan using $index " || { echo "FAILED: the scan of $table ($filter) does not use $index:"; echo "$plan"; return 1; }
    fi
}

# cluster_start_replica PRIMARY_DIR DIR PORT: a streaming replica of the cluster in
# PRIMARY_DIR (a base backup of it, with its settings) in DIR.
cluster_start_replica() {
    local primary=$1 dir=$2 port=$3
    rm -rf "$dir" && install -d -o postgres -g postgres "$dir" "$dir/socket"
    as_postgres "$PG_BIN/pg_basebackup" -h "$primary/socket" -p "$(cat "$primary/port")" -U postgres -D "$dir/data" -R -X stream >/dev/null
    {
        echo "port = $port"
        echo "unix_socket_directories = '$dir/socket'"
    } | as_postgres tee -a "$dir/data/postgresql.conf" >/dev/null
    echo "$port" >"$dir/port"
    as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/data/server.log" -w start >/dev/null
}

# cluster_kill DIR: kill -9 the postmaster and its backends, as a crash would, and wait
# until they are gone. The postmaster is stopped first: killed first, its backends would
# be orphaned (no longer its children to find) and could run on, even commit.
cluster_kill() {
    local postmaster children
    postmaster=$(head -1 "$1/data/postmaster.pid")
    kill -STOP "$postmaster"
    children=$(pgrep -P "$postmaster" || true)
    # shellcheck disable=SC2086
    kill -9 $children "$postmaster" 2>/dev/null || true
    for _ in $(seq 1 100); do
        local alive=
        for process in "$postmaster" $children; do
            kill -0 "$process" 2>/dev/null && alive=$process
        done
        [ -z "$alive" ] && break
        sleep 0.1
    done
}

# cluster_recover DIR: start a killed cluster; fails unless it went through crash recovery.
cluster_recover() {
    as_postgres "$PG_BIN/pg_ctl" -D "$1/data" -l "$1/data/server.log" -w start >/dev/null 2>&1 ||
        { tail -20 "$1/data/server.log"; return 1; }
    grep -q "database system was interrupted" "$1/data/server.log" || { echo "FAILED: no crash recovery"; return 1; }
}

# cluster_wait_replay PRIMARY_DIR REPLICA_DIR: waits (60 s at most) until the replica has
# replayed everything the primary has written so far.
cluster_wait_replay() {
    local target
    target=$(cluster_psql "$1" -d postgres -At -c "SELECT pg_current_wal_lsn()")
    for _ in $(seq 1 600); do
        [ "$(cluster_psql "$2" -d postgres -At -c "SELECT pg_last_wal_replay_lsn() >= '$target'")" = t ] && return 0
        sleep 0.1
    done
    echo "FAILED: the replica did not catch up in 60 s"
    return 1
}
