#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what is missing, then runs
#   0. rustfmt and clippy over the workspace, warnings as errors, every unsafe block
#      with its SAFETY comment,
#   1. the pure crate's tests (kernels against the scalar reference, quantization, formats,
#      recall on real embeddings, fuzzing of every parser and decoder),
#   2. the extension's #[pg_test]s inside a pgrx-managed PostgreSQL 15,
#   3. against throwaway clusters of our own: SQL expected-output tests (pg_regress),
#      dump/restore, index recall, crash recovery, replication, indexes larger than
#      shared_buffers, backend memory, cancellation, corrupted index pages, SQL-level
#      fuzzing, concurrency, online migration, extension upgrade, sharding over
#      postgres_fdw, and real clients (Python psycopg 3, Rust postgres crate).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "== 0/3 formatting and lints"
cargo fmt --all --check
# The extension (lib and its #[pg_test]s), then the other workspace crates with their
# tests, benches and examples (the first run lints only quantvec-core's lib).
cargo clippy --features pg15 --all-targets -- -D warnings -W clippy::undocumented_unsafe_blocks
cargo clippy -p quantvec-core -p quantvec-client --all-targets -- -D warnings -W clippy::undocumented_unsafe_blocks

echo "== 1/3 quantvec-core"
cargo test -p quantvec-core --lib
cargo test -p quantvec-core --test recall -- --nocapture
# Every parser, receive function and index-page decoder, fuzzed for a short budget
# (QUANTVEC_FUZZ_CASES=1000000 for a long run).
cargo test -p quantvec-core --test fuzz -- --nocapture

echo "== 2/3 #[pg_test]s"
pgdata=/tmp/quantvec-pgrx-test
rm -rf "$pgdata" && install -d -o postgres -g postgres "$pgdata"
CARGO_PGRX_TEST_RUNAS=postgres CARGO_PGRX_TEST_PGDATA="$pgdata" cargo pgrx test pg15

echo "== 3/3 against real clusters"
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
bash tests/clients.sh
echo "all tests passed"
