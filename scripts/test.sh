#!/usr/bin/env bash
# The whole test suite: formatting, lints, and every test in the workspace,
# the integration tests against a moto server this script starts (and stops,
# whatever happens) on a free port on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/moto.sh
# Each step says how far into the run it starts: where a slow run's time went.
started=$(date +%s)
step() { echo "== [$(( $(date +%s) - started ))s] $*"; }
ensure_venv "$(pwd)"
start_moto

step "cargo fmt --check"
cargo fmt --all -- --check
# The fuzz targets are a workspace of their own (nightly, sanitizers).
rustfmt --edition 2021 --check fuzz/src/*.rs fuzz/fuzz_targets/*.rs
step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
step "cfn-lint deploy/*.yaml"
"$venv/bin/cfn-lint" deploy/*.yaml
ensure_catalog_venv "$(pwd)"
step "the generated event catalog against the pinned API models (tools/catalog)"
"$catalog_venv/bin/python" tools/catalog/generate.py --check
ensure_checkov_venv "$(pwd)"
step "checkov deploy/ (each skipped check has its reason in the template)"
# --skip-download: no call to the vendor's platform; the built-in checks only.
"$checkov_venv/bin/checkov" -d deploy --framework cloudformation --compact --quiet --skip-download
ensure_iam_venv "$(pwd)"
step "IAM policies against AWS's service authorization reference and parliament"
# Findings pass only with a written reason: crates/cli/tests/deploy/iam-findings.yaml.
"$iam_venv/bin/python" crates/cli/tests/deploy/iam_check.py deploy/*.yaml
# The end-to-end test checks the function's recorded calls against its grants.
export TAGWARDEN_IAM_PYTHON="$iam_venv/bin/python"
# `tagwarden verify` is checked against the AWS CLI's own validator.
ensure_awscli_venv "$(pwd)"
export TAGWARDEN_AWSCLI_PYTHON="$awscli_venv/bin/python"
# One build of every target: the function's bootstrap (for the end-to-end
# test) then shares the tests' feature set, where `-p tagwarden-lambda` alone
# would resolve other features and compile the AWS SDK a second time.
step "cargo build --workspace --all-targets (the tests and the bootstrap)"
cargo build --workspace --all-targets --locked
step "cargo test"
cargo test --workspace --locked
step "arm64: the core's tests under emulation (skipped without the cross tools)"
./scripts/arm64.sh
step "fuzz: each parser for a bounded time (skipped without a nightly toolchain)"
./scripts/fuzz.sh
step "done"
