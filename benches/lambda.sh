#!/usr/bin/env bash
# The Lambda function's packaging figures for docs/benchmarks.md: the
# release `bootstrap`'s zip size, its init time, and one large invocation's
# duration and peak memory against moto (benches/lambda_bench.py).
# Usage: benches/lambda.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/moto.sh
ensure_venv "$(pwd)"
start_moto
cargo build -q --release --locked -p tagwarden-lambda
cargo build -q --locked -p tagwarden
target="${CARGO_TARGET_DIR:-target}"
"$TAGWARDEN_PYTHON" benches/lambda_bench.py "$target/release/bootstrap" "$target/debug/tagwarden" \
  crates/cli/tests/moto/world.py
