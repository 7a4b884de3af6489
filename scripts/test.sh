#!/usr/bin/env bash
# The whole test suite: formatting, lints, and every test in the workspace.
# Later issues add the moto server here (a Python venv started on 127.0.0.1
# and stopped on exit); everything the tests need is installed by this script.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
