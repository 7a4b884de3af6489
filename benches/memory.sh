#!/usr/bin/env bash
# Memory flat in the number of creations (issue 19, point 5), for
# docs/benchmarks.md: `tagwarden apply --offline` over one log of N
# `CreateVolume` records (tagwarden-gen, from the catalog's CreateVolume
# fixture only), into a fresh SQLite store, in parts (the default) and
# held whole (`--part-size` large enough to hold the run: the behaviour
# before parts). Prints a Markdown row per run: peak resident memory, wall
# time, and what the store recorded.
#
# Usage: benches/memory.sh [N]   (default 1,000000; release builds of
# tagwarden and tagwarden-gen under ${CARGO_TARGET_DIR:-target})
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
target="${CARGO_TARGET_DIR:-target}"
cargo build -q --release --locked -p tagwarden -p tagwarden-gen
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/fixtures"
cp crates/core/tests/fixtures/catalog/ec2.CreateVolume.json "$work/fixtures/"
"$target/release/tagwarden-gen" --records "$n" --create-share 1.0 \
  --accounts 111122223333 --regions us-east-1 --fixtures "$work/fixtures" \
  --out "$work/volumes.json.gz"
echo "| run | creations | peak RSS | wall | recorded |"
echo "|---|---:|---:|---:|---|"
for run in parts whole; do
  rm -f "$work/tw.db"*
  size=()
  [ "$run" = whole ] && size=(--part-size "$n")
  /usr/bin/time -f "%M %e" -o "$work/time" \
    "$target/release/tagwarden" --store "sqlite:$work/tw.db" apply "$work/volumes.json.gz" \
    --offline --format json "${size[@]}" > "$work/out.json" 2> "$work/err"
  read -r kb secs < "$work/time"
  recorded=$(grep '^Recorded' "$work/err" | sed 's/.*: //')
  printf '| %s | %s | %.0f MiB | %s s | %s |\n' "$run" "$n" "$(echo "$kb / 1024" | bc -l)" "$secs" "$recorded"
done
