#!/usr/bin/env bash
# API calls `tagwarden apply` makes for N new resources (half EC2 instances,
# half CloudWatch log groups, one account and region, one creator), counted
# by its SDK interceptor, against one write per resource. Prints Markdown
# rows for docs/benchmarks.md. Usage: benches/api_calls.sh [N...]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/moto.sh
ensure_venv "$(pwd)"
start_moto
cargo build -q -p tagwarden
bin="${CARGO_TARGET_DIR:-target}/debug/tagwarden"
work=$(mktemp -d)
echo "| N | EC2 CreateTags | TagResources | writes | reads (DescribeTags + GetResources) | one write per resource |"
echo "|---:|---:|---:|---:|---:|---:|"
n_account=0
for n in "${@:-10 1000 10000}"; do
  for size in $n; do
    n_account=$((n_account + 1))
    account=$(printf '2200000000%02d' "$n_account")
    half=$((size / 2))
    "$TAGWARDEN_PYTHON" crates/cli/tests/moto/world.py bulk "$account" us-east-1 "$half" "$((size - half))" "bench$size" "$work/$size" >/dev/null
    "$bin" apply -q --assume-role Bench --format json "$work/$size" >"$work/$size.json"
    "$TAGWARDEN_PYTHON" - "$work/$size.json" "$size" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1])); n = int(sys.argv[2])
calls = {c["operation"]: c["calls"] for c in doc["api_calls"]}
writes = sum(c["calls"] for c in doc["api_calls"] if c["write"])
reads = calls.get("DescribeTags", 0) + calls.get("GetResources", 0)
assert doc["summary"]["tagged"] == n, doc["summary"]
print(f"| {n:,} | {calls.get('CreateTags', 0)} | {calls.get('TagResources', 0)} | {writes} | {reads} | {n:,} |")
PY
  done
done
rm -rf "$work"
