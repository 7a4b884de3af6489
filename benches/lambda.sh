#!/usr/bin/env bash
# The Lambda function's packaging figures for docs/benchmarks.md: the
# `bootstrap`'s zip size, its init time, and one large invocation's
# duration and peak memory against moto (benches/lambda_bench.py).
#
# Usage: benches/lambda.sh [--arm64]
#
# The binary is built as `sam build` builds it: `cargo lambda build
# --release` (x86_64 by default), with cargo-lambda's release settings.
# cargo-lambda: `pip install cargo-lambda` (brings Zig, which cross-links).
# An arm64 binary on another machine runs under qemu-aarch64-static (Debian's
# qemu-user-static, with libc6-arm64-cross for its glibc): its size is
# real, its times and memory include the emulator and are upper bounds.
set -euo pipefail
cd "$(dirname "$0")/.."
arch=x86-64
if [ "${1:-}" = --arm64 ]; then arch=arm64; fi
command -v cargo-lambda >/dev/null || { echo "needs cargo-lambda: pip install cargo-lambda" >&2; exit 1; }
. scripts/lib/moto.sh
ensure_venv "$(pwd)"
start_moto
cargo lambda build --release --locked "--$arch" -p tagwarden-lambda --bin bootstrap
target="${CARGO_TARGET_DIR:-target}"
# The CLI only creates the tables; TAGWARDEN_CLI names one already built.
cli="${TAGWARDEN_CLI:-$target/debug/tagwarden}"
[ -n "${TAGWARDEN_CLI:-}" ] || cargo build -q --locked -p tagwarden
runner=""
if [ "$arch" = arm64 ] && [ "$(uname -m)" != aarch64 ]; then
  runner=qemu-aarch64-static
  export QEMU_LD_PREFIX=/usr/aarch64-linux-gnu
fi
LAMBDA_BENCH_ARCH="${arch/-/_}" LAMBDA_BENCH_RUNNER="$runner" \
  "$TAGWARDEN_PYTHON" benches/lambda_bench.py "$target/lambda/bootstrap/bootstrap" "$cli" \
  crates/cli/tests/moto/world.py
