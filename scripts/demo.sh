#!/usr/bin/env bash
# The main job, end to end, with nothing but this repository and a Rust toolchain.
# For now the key-pair part of the lab (exercise 2): the registry part arrives with the
# embedded registry. Usage: scripts/demo.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# COSIGN_BIN: an already built binary (the test script passes the one its tests built).
if [ -n "${COSIGN_BIN:-}" ]; then
  cosign=$COSIGN_BIN
else
  cargo build -q --manifest-path "$root/Cargo.toml" -p cosign
  cosign=$root/target/debug/cosign
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step 'echo "test123" | cosign generate-key-pair'
echo "test123" | "$cosign" generate-key-pair

step 'ls -la cosign.key cosign.pub'
ls -la cosign.key cosign.pub

step 'cat cosign.pub'
cat cosign.pub

step 'echo "test123" | cosign public-key --key cosign.key   # the same public key, from the private key'
echo "test123" | "$cosign" public-key --key cosign.key | tee derived.pub
cmp -s derived.pub cosign.pub && echo "(identical to cosign.pub)"

step 'echo "wrong123" | cosign public-key --key cosign.key   # the wrong password is refused'
if echo "wrong123" | "$cosign" public-key --key cosign.key; then
  echo "demo: the wrong password was accepted" >&2
  exit 1
else
  echo "(refused, exit $?)"
fi

step 'openssl genpkey -algorithm ED25519 -out ed25519.pem && COSIGN_PASSWORD=pw cosign import-key-pair --key ed25519.pem'
openssl genpkey -algorithm ED25519 -out ed25519.pem
COSIGN_PASSWORD=pw "$cosign" import-key-pair --key ed25519.pem
cat import-cosign.pub

step 'cosign version --short'
"$cosign" version --short
