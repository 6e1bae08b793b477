#!/usr/bin/env bash
# The demo: installs what is missing, builds and installs quantvec into the system
# PostgreSQL 15, starts a throwaway cluster, loads 5,000 real sentence embeddings (shipped in
# data/), quantizes them to int8vec, int4vec and bitvec, and prints sizes, a search, and recall@10 of
# quantized search against exact float search. The cluster is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/cluster.sh

echo "== building quantvec (release) and installing it into PostgreSQL 15"
bash scripts/install.sh
cargo build --release --quiet -p quantvec-core --bin quantvec-data
data=data/wordnet-minilm-384-sample
tool=target/release/quantvec-data

work=/tmp/quantvec-demo
port=${DEMO_PORT:-54340}
trap 'cluster_stop $work' EXIT
cluster_start "$work" "$port"
psql_demo() { cluster_psql "$work" -d postgres "$@"; }

echo "== loading $data: 5,000 base vectors, 100 queries, exact top-10"
psql_demo -c "CREATE EXTENSION quantvec" \
          -c "CREATE TABLE items (id int PRIMARY KEY, embedding real[])" \
          -c "CREATE TABLE queries (id int PRIMARY KEY, embedding real[])" \
          -c "CREATE TABLE truth (query_id int PRIMARY KEY, ids int[])"
"$tool" copy "$data/base_f16.npy" | psql_demo -c "COPY items FROM STDIN"
"$tool" copy "$data/queries_f16.npy" | psql_demo -c "COPY queries FROM STDIN"
"$tool" truth "$data/base_f16.npy" "$data/queries_f16.npy" --k 10 | psql_demo -c "COPY truth FROM STDIN"

psql_demo -f scripts/demo.sql
