#!/usr/bin/env bash
# Installs everything the tests need (the real peers included; idempotent) and runs all tests:
# formatting, lints, unit, property and integration tests (interop against real cosign 2.5/3.1,
# OpenSSL), then the demo. Usage: scripts/test.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

echo "== installing the real peers (idempotent)"
bash scripts/install-peers.sh
export COSIGN_RS_PEERS_DIR=$root/.peers

echo "== formatting"
cargo fmt --all --check

echo "== lints"
cargo clippy --workspace --all-targets --locked -q -- -D warnings

echo "== tests"
cargo test --workspace --locked

echo "== demo (the README's main job)"
COSIGN_BIN=$root/target/debug/cosign bash scripts/demo.sh >/dev/null
echo "demo: ok"
