# Source this file: functions to run a throwaway PostgreSQL 15 cluster as the postgres
# user (Postgres refuses root) on a port and socket directory of its own.
#
#   cluster_start DIR PORT [extra postgresql.conf lines...]   starts a cluster in DIR
#                                    (the server gets the environment in CLUSTER_ENV, if set)
#   cluster_psql DIR [psql args...]                           psql against it
#   cluster_stop DIR                                          stops it (fast shutdown)

PG_BIN=${PG_BIN:-$(/usr/bin/pg_config --bindir)}

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

cluster_psql() {
    local dir=$1
    shift
    as_postgres "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir/socket" -p "$(cat "$dir/port")" -U postgres "$@"
}

cluster_stop() {
    local dir=$1
    [ -d "$dir/data" ] && as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}
