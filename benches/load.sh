#!/usr/bin/env bash
# Load through the function, for docs/benchmarks.md: N (default 10,000)
# EventBridge creation events in SQS batches of 10 through the release
# `bootstrap` against the template's stack in moto (benches/load_bench.py).
# CI runs the same with 200 for correctness:
# lambda::two_hundred_creations_in_sqs_batches_are_tagged_and_a_replay_adds_nothing.
#
# Usage: benches/load.sh [N [ROUNDS]]   (TAGWARDEN_BOOTSTRAP names a built binary)
# ROUNDS > 1 resets moto between rounds of N/ROUNDS events (see load_bench.py).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/moto.sh
ensure_venv "$(pwd)"
start_moto
target="${CARGO_TARGET_DIR:-target}"
bootstrap="${TAGWARDEN_BOOTSTRAP:-$target/release/bootstrap}"
[ -n "${TAGWARDEN_BOOTSTRAP:-}" ] || cargo build -q --release --locked -p tagwarden-lambda --bin bootstrap
# Which binary this measures: a stale one left by another build looks the same.
echo "bootstrap: $bootstrap, built $(date -r "$bootstrap" -Iseconds), sha256 $(sha256sum < "$bootstrap" | cut -c1-16)" >&2
"$TAGWARDEN_PYTHON" benches/load_bench.py "$bootstrap" crates/cli/tests/moto/world.py \
  crates/cli/tests/deploy/translate.py deploy/template.yaml "${1:-10000}" "${2:-1}"
