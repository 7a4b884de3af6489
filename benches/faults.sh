#!/usr/bin/env bash
# Time under faults, for docs/benchmarks.md: `tagwarden apply` over a fresh
# world of every catalogued service in two regions (crates/cli/tests/moto/
# world.py), once straight to moto and once through a proxy
# (crates/cli/tests/moto/faults.py under mitmdump) that throttles 20% of
# requests, cuts 5% of connections and answers EC2's CreateTags with
# `Invalid….NotFound` for ids it has not seen before (eventual
# consistency). Prints a Markdown row per run: seconds, requests, faults,
# and the target: twice the fault-free time plus the sleeps the faults ask
# for. A throttle or a cut connection asks for the SDK's standard backoff
# (on attempt N, a uniformly jittered wait of up to min(2^(N-1), 20) s: half
# that on average); an id not visible yet for tagwarden's own short pause
# before it goes again alone (0.5–1 s: 0.75 s on average).
#
# Usage: [FAULT_ACCOUNTS=A,B] benches/faults.sh [RUNS]   (TAGWARDEN_CLI names a
# built binary)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-1}"
# Two accounts by default (144 resources); one gives 72.
accounts="${FAULT_ACCOUNTS:-230000000001,230000000002}"
. scripts/lib/moto.sh
ensure_venv "$(pwd)"
start_moto
target="${CARGO_TARGET_DIR:-target}"
cli="${TAGWARDEN_CLI:-$target/debug/tagwarden}"
[ -n "${TAGWARDEN_CLI:-}" ] || cargo build -q --locked -p tagwarden
work=$(mktemp -d)
echo "work: $work" >&2
world=crates/cli/tests/moto/world.py
proxy_pid=""
cleanup() { [ -z "$proxy_pid" ] || kill "$proxy_pid" 2>/dev/null || true; kill "$moto_pid" 2>/dev/null || true; }
trap cleanup EXIT

apply() { # name endpoint -> seconds, writes the JSON outcome
  local name=$1 endpoint=$2 t0 t1
  "$TAGWARDEN_PYTHON" "$world" --accounts "$accounts" --regions us-east-1,eu-west-1 \
    --prefix "$name" --out "$work/$name" >"$work/$name.manifest.json"
  t0=$EPOCHREALTIME
  "$cli" apply -q --yes --assume-role Bench --format json --endpoint-url "$endpoint" \
    --store "sqlite:$work/$name.db" "$work/$name" >"$work/$name.json" 2>"$work/$name.err" || true
  t1=$EPOCHREALTIME
  "$TAGWARDEN_PYTHON" -c "print($t1 - $t0)"
}

echo "| run | resources | tagged | seconds | requests | throttles | resets | not yet visible | sleeps asked | target: 2 × fault-free + sleeps asked |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for r in $(seq "$runs"); do
  plain=$(apply "plain$r" "$AWS_ENDPOINT_URL")
  "$TAGWARDEN_PYTHON" - "$work/plain$r.json" "$plain" "$r" <<'PY'
import json, sys
doc, secs, r = json.load(open(sys.argv[1])), float(sys.argv[2]), sys.argv[3]
n = len(doc["resources"]); tagged = sum(o["status"] == "tagged" for o in doc["resources"])
print(f"| {r}: no faults | {n} | {tagged} | {secs:.1f} | | | | | | |")
PY
  port=$("$TAGWARDEN_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$(dirname "$TAGWARDEN_PYTHON")/mitmdump" --mode "reverse:$AWS_ENDPOINT_URL" --listen-host 127.0.0.1 \
    --listen-port "$port" -q -s crates/cli/tests/moto/faults.py --set throttle_permille=200 \
    --set reset_permille=50 --set unseen=1 --set count=1 --set "fault_seed=$r" >"$work/proxy$r.log" 2>/dev/null &
  proxy_pid=$!
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  faulty=$(apply "faults$r" "http://127.0.0.1:$port")
  kill "$proxy_pid" 2>/dev/null || true; wait "$proxy_pid" 2>/dev/null || true; proxy_pid=""
  "$TAGWARDEN_PYTHON" - "$work/faults$r.json" "$faulty" "$plain" "$work/proxy$r.log" "$r" <<'PY'
import json, re, sys
doc, secs, plain, log, r = json.load(open(sys.argv[1])), float(sys.argv[2]), float(sys.argv[3]), open(sys.argv[4]).read(), sys.argv[5]
n = len(doc["resources"]); tagged = sum(o["status"] == "tagged" for o in doc["resources"])
requests = log.count("REQUEST ")
throttles = [int(a) for a in re.findall(r"FAULT throttle \S+ attempt=(\d+)", log)]
resets = [int(a) for a in re.findall(r"FAULT reset \S+ attempt=(\d+)", log)]
unseen = log.count("FAULT unseen")
asked = sum(min(2 ** (a - 1), 20) / 2 for a in throttles + resets) + 0.75 * unseen
target = 2 * plain + asked
print(f"| {r}: faults | {n} | {tagged} | **{secs:.1f}** | {requests} | {len(throttles)} | {len(resets)} | {unseen} | {asked:.1f} s | {target:.1f} s: {'met' if secs <= target else 'NOT met'} |")
PY
done
