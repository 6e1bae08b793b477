#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what is missing, then runs
#   0. rustfmt and clippy over the workspace, warnings as errors, every unsafe block
#      with its SAFETY comment (the extension linted for PostgreSQL 15 and 18, which
#      between them take every side of the version cfgs in src/compat.rs),
#   1. the pure crate's tests (kernels against the scalar reference, quantization, formats,
#      recall on real embeddings, fuzzing of every parser and decoder),
#   2. on PostgreSQL 15: the extension's #[pg_test]s inside a pgrx-managed server, then,
#      against throwaway clusters of our own, SQL expected-output tests (pg_regress),
#      dump/restore, index recall, crash recovery, replication, indexes larger than
#      shared_buffers, backend memory, cancellation, corrupted index pages, SQL-level
#      fuzzing, concurrency, online migration, extension upgrade, sharding over
#      postgres_fdw, pgvector's types (without pgvector on 15), Citus (16 and later),
#      and real clients (Python psycopg 3, Rust postgres crate),
#   3. on PostgreSQL 16, 17 and 18: the #[pg_test]s, pg_regress, dump/restore, index
#      recall, crash recovery and pgvector's types (their builds ship pgvector 0.6.2,
#      0.8.2 and 0.8.6); then pg_upgrade from 16 to 18 with indexes in place, and Citus
#      (built from ../shared/vendor) with a coordinator and two workers on 17.
#
#   bash scripts/test.sh             all of the above
#   bash scripts/test.sh --pg 17     0 and 1, then everything of 2 on PostgreSQL 17
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh

full=15
others="16 17 18"
if [ "${1:-}" = --pg ]; then
    full=${2:?"--pg takes a PostgreSQL major version ($SUPPORTED_POSTGRES)"}
    others=""
    postgres_path_of "$full" >/dev/null || exit 2
elif [ $# -gt 0 ]; then
    echo "usage: bash scripts/test.sh [--pg VERSION]" >&2
    exit 2
fi
# shellcheck disable=SC2086 # word splitting wanted: one argument per version
bash scripts/setup.sh $full $others

echo "== 0/3 formatting and lints"
cargo fmt --all --check
# The extension (lib and its #[pg_test]s), then the other workspace crates with their
# tests, benches and examples (the first runs lint only quantvec-core's lib).
cargo clippy --features pg15 --all-targets -- -D warnings -W clippy::undocumented_unsafe_blocks
cargo clippy --no-default-features --features pg18 --all-targets -- -D warnings -W clippy::undocumented_unsafe_blocks
cargo clippy -p quantvec-core -p quantvec-client --all-targets -- -D warnings -W clippy::undocumented_unsafe_blocks

echo "== 1/3 quantvec-core"
cargo test -p quantvec-core --lib
cargo test -p quantvec-core --test recall -- --nocapture
# quantvec.target_recall on real and synthetic data the calibration never saw.
cargo test -p quantvec-core --test target_recall -- --nocapture
# Every parser, receive function and index-page decoder, fuzzed for a short budget
# (QUANTVEC_FUZZ_CASES=1000000 for a long run).
cargo test -p quantvec-core --test fuzz -- --nocapture

pg_tests() {
    local version=$1 pgdata=/tmp/quantvec-pgrx-test
    rm -rf "$pgdata" && install -d -o postgres -g postgres "$pgdata"
    CARGO_PGRX_TEST_RUNAS=postgres CARGO_PGRX_TEST_PGDATA="$pgdata" cargo pgrx test "pg$version"
}

echo "== 2/3 PostgreSQL $full: #[pg_test]s"
pg_tests "$full"
echo "== 2/3 PostgreSQL $full: against real clusters"
PG_CONFIG=$(pg_config_of "$full")
export PG_CONFIG
bash scripts/install.sh
bash tests/regress.sh
bash tests/dump_restore.sh
bash tests/index_recall.sh
bash tests/crash.sh
bash tests/replica.sh
bash tests/large_index.sh
bash tests/memory.sh
bash tests/cancel.sh
bash tests/corruption.sh
bash tests/fuzz_sql.sh
bash tests/concurrency.sh
bash tests/migration.sh
bash tests/upgrade.sh
bash tests/sharding.sh
bash tests/pgvector.sh
bash tests/citus.sh
bash tests/clients.sh

for version in $others; do
    echo "== 3/3 PostgreSQL $version: #[pg_test]s, pg_regress, dump/restore, index recall, crash recovery, pgvector"
    pg_tests "$version"
    PG_CONFIG=$(pg_config_of "$version")
    bash scripts/install.sh
    bash tests/regress.sh
    bash tests/dump_restore.sh
    bash tests/index_recall.sh
    bash tests/crash.sh
    bash tests/pgvector.sh
done
if [ -n "$others" ]; then
    echo "== 3/3 pg_upgrade from PostgreSQL 16 to 18 with quantvec indexes in place"
    PG_UPGRADE_FROM=$(pg_config_of 16) PG_CONFIG=$(pg_config_of 18) bash tests/pg_upgrade.sh
    echo "== 3/3 Citus 14 on PostgreSQL 17: a coordinator and two workers"
    PG_CONFIG=$(pg_config_of 17) bash tests/citus.sh
fi
echo "all tests passed"
