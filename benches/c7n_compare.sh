#!/usr/bin/env bash
# `tagwarden scan` against Cloud Custodian on one moto: the same seeded mix
# (about 1,000 EC2 instances, volumes, S3 buckets, RDS instances), the same
# findings required of both, and each one's client CPU, wall time and API
# calls. Prints the JSON report benches/c7n_compare.py writes.
# Usage: benches/c7n_compare.sh [INSTANCES]   (default 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/moto.sh
ensure_venv "$(pwd)"
# Custodian pins its own boto3: a venv of its own.
c7n_venv="${TAGWARDEN_C7N_VENV:-${TMPDIR:-/tmp}/tagwarden-c7n-venv}"
pinned_venv "$c7n_venv" benches/requirements-c7n.txt
cargo build -q --release -p tagwarden
bin="${CARGO_TARGET_DIR:-target}/release/tagwarden"
start_moto >&2
work=$(mktemp -d)
trap 'rm -rf "$work"; kill "$moto_pid" 2>/dev/null || true' EXIT
"$TAGWARDEN_PYTHON" benches/c7n_compare.py "$bin" "$c7n_venv/bin/custodian" "$work" "${1:-1000}"
