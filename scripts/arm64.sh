#!/usr/bin/env bash
# The pure core's tests built for arm64 (Graviton) and run under QEMU's
# user-mode emulator: the scanner's NEON path is checked against the
# portable one there. Needs the aarch64 standard library
# (`rustup target add aarch64-unknown-linux-gnu`) and Debian's
# `gcc-aarch64-linux-gnu` (linker and glibc) and `qemu-user-static`;
# without them this says so and skips.
set -euo pipefail
cd "$(dirname "$0")/.."
target=aarch64-unknown-linux-gnu
installed=$(rustup target list --installed 2>/dev/null || true)
if ! grep -qx "$target" <<<"$installed" \
  || ! command -v aarch64-linux-gnu-gcc >/dev/null || ! command -v qemu-aarch64-static >/dev/null; then
  echo "== arm64: SKIPPED: needs rustup's $target, gcc-aarch64-linux-gnu and qemu-user-static"
  exit 0
fi
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64-static -L /usr/aarch64-linux-gnu"
cargo test -q --locked --target "$target" -p tagwarden-core --lib
