#!/usr/bin/env bash
# Bounded fuzz runs of the parsers that read what others write: the record
# reader (plain and gzip), the function's trigger classifier, the policy
# parser and the subjects reader (fuzz/). Each target runs for
# TAGWARDEN_FUZZ_SECONDS (default 60) from a seed corpus of the repository's
# fixtures. A crash fails the run, with its input under fuzz/artifacts/;
# each one found becomes a regression test in the crate it broke.
#
# cargo fuzz needs a nightly toolchain: without one this says so and skips.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${TAGWARDEN_FUZZ_SECONDS:-60}"
targets=(records records_gzip trigger policy subjects)

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "== fuzz: SKIPPED: no nightly toolchain here (rustup toolchain install nightly)"
  exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "== fuzz: installing cargo-fuzz"
  if ! cargo +nightly install cargo-fuzz --locked --quiet; then
    echo "== fuzz: SKIPPED: cargo-fuzz could not be installed (offline?)"
    exit 0
  fi
fi

# Seeds: the fixtures, copied afresh (the corpus is git-ignored and grows
# with what each run learns).
seed() {
  local dir="fuzz/corpus/$1"
  shift
  mkdir -p "$dir"
  local f
  for f in "$@"; do
    [ -f "$f" ] && cp "$f" "$dir/$(basename "$(dirname "$f")")-$(basename "$f")"
  done
  return 0
}
shopt -s nullglob globstar
catalog=(crates/core/tests/fixtures/catalog/*.json)
public=(examples/public/**/*.json)
bad=(crates/cli/tests/bad-input/*.json)
logs=(examples/cloudtrail/**/*.json.gz)
events=(../shared/fixtures/lambda-events/*.json)
seed records "${public[@]}" "${bad[@]}"
seed records_gzip "${logs[@]}" "${bad[@]}"
seed trigger "${events[@]}"
seed policy policies/*.yaml
seed subjects "${events[@]}"
# The catalog's fixtures hold a record beside what it must give: the record
# alone, as a log holds it, as EventBridge delivers it, and as the event
# queue hands that to the function.
python3 - "${catalog[@]}" <<'PY'
import json, os, sys
for path in sys.argv[1:]:
    record = json.load(open(path))["record"]
    name = os.path.basename(path)
    event = {"version": "0", "id": "seed", "detail-type": "AWS API Call via CloudTrail",
             "source": "aws." + record["eventSource"].split(".")[0], "account": "111122223333",
             "region": record.get("awsRegion", "us-east-1"), "time": record.get("eventTime"),
             "resources": [], "detail": record}
    sqs = {"Records": [{"messageId": "seed", "receiptHandle": "seed", "body": json.dumps(event),
                        "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                        "eventSource": "aws:sqs", "awsRegion": "us-east-1",
                        "eventSourceARN": "arn:aws:sqs:us-east-1:111122223333:tagwarden-events"}]}
    for target, doc in [("records", {"Records": [record]}), ("records_gzip", {"Records": [record]}),
                        ("trigger", sqs), ("subjects", event)]:
        with open(f"fuzz/corpus/{target}/catalog-{name}", "w") as f:
            json.dump(doc, f)
PY

target_dir="${CARGO_TARGET_DIR:-$(pwd)/target}/fuzz"
echo "== fuzz: building ${targets[*]}"
mkdir -p "$target_dir"
log="$target_dir/fuzz.log"
if ! (cd fuzz && cargo +nightly fuzz build --target-dir "$target_dir") >"$log" 2>&1; then
  tail -40 "$log" >&2
  echo "== fuzz: the targets do not build" >&2
  exit 1
fi
for t in "${targets[@]}"; do
  echo "== fuzz: $t for ${secs}s"
  rm -rf "fuzz/artifacts/$t"
  # A single allocation beyond twice the record cap (8 MiB: a buffer of it,
  # or a string of it growing by doubling) is a failure, as is a process
  # beyond 2 GiB. `records_gzip` compares findings as text, which may take
  # more.
  limit=20
  [ "$t" != records_gzip ] || limit=64
  if ! (cd fuzz && cargo +nightly fuzz run --target-dir "$target_dir" "$t" "corpus/$t" -- \
      -max_total_time="$secs" -malloc_limit_mb="$limit" -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1) >"$log" 2>&1; then
    # The panic or sanitizer report, without the input's bytes.
    { grep -E -A12 'panicked|ERROR|SUMMARY' "$log" | cut -c1-400 | head -60 >&2; } || true
    echo "== fuzz: $t FAILED: the input is kept in fuzz/artifacts/$t/" >&2
    exit 1
  fi
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$log" | tr '\n' ' ' || true
  echo
done
echo "== fuzz: no crash in ${#targets[@]} targets"
