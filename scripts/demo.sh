#!/usr/bin/env bash
# The main job: the whole cosign lab (../shared/seed/cosign-lab.md), offline, with nothing but
# this repository and a Rust toolchain. cosign's own embedded registry stands in for
# `docker run registry:2`, and the committed sample image (examples/sample-image, made by
# `cargo run -p cosign-oci --example make_sample_image`) for `docker pull nginx`.
# Usage: scripts/demo.sh
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
registry_pid=
sigstore_pid=
cleanup() {
  for pid in $registry_pid $sigstore_pid; do
    kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
# Runs a command that must fail, and shows its exit code.
must_fail() {
  local code=0
  "$@" || code=$?
  if [ "$code" -eq 0 ]; then
    echo "demo: this should have failed" >&2
    exit 1
  fi
  echo "(failed as it should, exit code $code)"
}

# Waits (up to 10 s) for a server started in the background to print its first line to $1.
wait_for_line() {
  for _ in $(seq 200); do
    grep -q "$2" "$1" 2>/dev/null && break
    sleep 0.05
  done
  cat "$1"
}

step 'cosign version --short'
"$cosign" version --short

# Exercise 1: a local registry, from the cosign binary itself (a free port on loopback).
step 'cosign registry serve --address 127.0.0.1:0 &'
"$cosign" registry serve --address 127.0.0.1:0 2>registry.log &
registry_pid=$!
wait_for_line registry.log 'serving an OCI registry on'
registry=$(sed -n 's|.*serving an OCI registry on http://\([^ ]*\).*|\1|p' registry.log)
[ -n "$registry" ] || { echo "demo: the registry did not start" >&2; exit 1; }
image=$registry/sample:1.0-signed

# Exercise 3's image, from the committed OCI layout instead of Docker Hub.
step "cosign load --dir examples/sample-image $image"
"$cosign" load --dir "$root/examples/sample-image" "$image"

# Exercise 2: keys.
step 'echo "test123" | cosign generate-key-pair'
echo "test123" | "$cosign" generate-key-pair
step 'ls -la cosign.key cosign.pub && cat cosign.pub'
ls -la cosign.key cosign.pub
cat cosign.pub

# Exercise 3: signing. The lab's command as written wants the public transparency log; offline,
# cosign (3.x, and we) refuse and name the flags that sign with the key alone.
step "echo \"test123\" | cosign sign --key cosign.key $image --yes"
must_fail sh -c "echo test123 | '$cosign' sign --key cosign.key '$image' --yes"
step "echo \"test123\" | cosign sign --key cosign.key --tlog-upload=false --use-signing-config=false $image --yes"
echo "test123" | "$cosign" sign --key cosign.key --tlog-upload=false --use-signing-config=false "$image" --yes

step "cosign tree $image"
"$cosign" tree "$image"

# Exercise 4: verification (offline: the signature is not in a transparency log).
step "cosign verify --key cosign.pub --insecure-ignore-tlog $image --output text"
"$cosign" verify --key cosign.pub --insecure-ignore-tlog "$image" --output text
step "cosign verify --key cosign.pub --insecure-ignore-tlog $image --output json"
"$cosign" verify --key cosign.pub --insecure-ignore-tlog "$image" --output json

# The image and its signature, saved to disk and verified there without any registry.
step "cosign save --dir saved $image && cosign verify --key cosign.pub --insecure-ignore-tlog --local-image saved"
"$cosign" save --dir saved "$image"
"$cosign" verify --key cosign.pub --insecure-ignore-tlog --local-image saved --output text

# A different key pair must not verify.
step 'mkdir wrong-keys && cd wrong-keys && echo "wrong123" | cosign generate-key-pair'
mkdir wrong-keys
(cd wrong-keys && echo "wrong123" | "$cosign" generate-key-pair)
step "cosign verify --key wrong-keys/cosign.pub --insecure-ignore-tlog $image"
must_fail "$cosign" verify --key wrong-keys/cosign.pub --insecure-ignore-tlog "$image"

step 'echo "wrong123" | cosign public-key --key cosign.key   # the wrong password is refused'
must_fail sh -c "echo wrong123 | '$cosign' public-key --key cosign.key"

# Attestations: an SBOM of the image, signed as a CycloneDX attestation, verified, and checked
# against a policy that bans a component the image carries (left-pad).
syft=$(command -v syft || true)
[ -n "$syft" ] || { [ -x "$root/.peers/bin/syft" ] && syft=$root/.peers/bin/syft; } || true
if [ -n "$syft" ]; then
  step "syft oci-dir:examples/sample-image -o cyclonedx-json=sbom.cdx.json"
  "$syft" "oci-dir:$root/examples/sample-image" -o cyclonedx-json=sbom.cdx.json -q
else
  step "cp examples/sample-image.cdx.json sbom.cdx.json   # made by syft 1.18.1; scripts/install-peers.sh installs syft"
  cp "$root/examples/sample-image.cdx.json" sbom.cdx.json
fi
step "echo \"test123\" | cosign attest --key cosign.key --type cyclonedx --predicate sbom.cdx.json --tlog-upload=false --use-signing-config=false $image --yes"
echo "test123" | "$cosign" attest --key cosign.key --type cyclonedx --predicate sbom.cdx.json --tlog-upload=false --use-signing-config=false "$image" --yes
step "cosign tree $image"
"$cosign" tree "$image"
step "cosign verify-attestation --key cosign.pub --insecure-ignore-tlog --type cyclonedx $image > attestation.json"
"$cosign" verify-attestation --key cosign.pub --insecure-ignore-tlog --type cyclonedx "$image" > attestation.json
echo "attestation.json: $(wc -c < attestation.json) bytes, one DSSE envelope"
step "cat examples/policies/no-left-pad.rego"
cat "$root/examples/policies/no-left-pad.rego"
step "cosign verify-attestation --key cosign.pub --insecure-ignore-tlog --type cyclonedx --policy examples/policies/no-left-pad.rego $image"
cp "$root/examples/policies/no-left-pad.rego" no-left-pad.rego
must_fail "$cosign" verify-attestation --key cosign.pub --insecure-ignore-tlog --type cyclonedx --policy no-left-pad.rego "$image"
cue=$(command -v cue || true)
[ -n "$cue" ] || { [ -x "$root/.peers/bin/cue" ] && cue=$root/.peers/bin/cue; } || true
if [ -n "$cue" ]; then
  cp "$root/examples/policies/cyclonedx.cue" cyclonedx.cue
  step "cosign verify-attestation --key cosign.pub --insecure-ignore-tlog --type cyclonedx --policy examples/policies/cyclonedx.cue $image > /dev/null"
  PATH=$(dirname "$cue"):$PATH "$cosign" verify-attestation --key cosign.pub --insecure-ignore-tlog --type cyclonedx --policy cyclonedx.cue "$image" > /dev/null
fi
step "cosign verify-attestation --key cosign.pub --insecure-ignore-tlog --type spdxjson $image   # another type never counts"
must_fail "$cosign" verify-attestation --key cosign.pub --insecure-ignore-tlog --type spdxjson "$image"

# The keyless half (exercise 4): a local Sigstore (OIDC issuer, Fulcio CA, Rekor v2 log, TSA)
# from the cosign binary itself, on loopback, its trust files in ./sigstore.
step 'cosign sigstore serve --address 127.0.0.1:0 --out sigstore &'
"$cosign" sigstore serve --address 127.0.0.1:0 --out sigstore 2>sigstore.log &
sigstore_pid=$!
wait_for_line sigstore.log 'serving a local Sigstore'
sigstore=$(sed -n 's|.* on \(http://[^ ]*\) .*|\1|p' sigstore.log)
[ -n "$sigstore" ] || { echo "demo: the local Sigstore did not start" >&2; exit 1; }
# GET with bash alone (what `curl -s URL` does), so the demo needs no curl.
http_get() {
  local rest=${1#http://} host port path
  host=${rest%%/*}; path=/${rest#*/}; port=${host##*:}; host=${host%:*}
  exec 3<>"/dev/tcp/$host/$port"
  printf 'GET %s HTTP/1.0\r\nHost: %s:%s\r\n\r\n' "$path" "$host" "$port" >&3
  sed '1,/^\r$/d' <&3
  exec 3<&-
}
step "token=\$(curl -s '$sigstore/oauth2/token?sub=alice@example.com')"
token=$(http_get "$sigstore/oauth2/token?sub=alice@example.com")
case $token in eyJ*) ;; *) echo "demo: no token from the local Sigstore: $token" >&2; exit 1 ;; esac
echo "${token:0:40}... ($(printf %s "$token" | wc -c) bytes, RS256, valid 10 minutes)"
keyless_image=$registry/keyless/sample:1.0
step "cosign load --dir examples/sample-image $keyless_image"
"$cosign" load --dir "$root/examples/sample-image" "$keyless_image"
step "cosign sign --identity-token \$token --signing-config sigstore/signing_config.json --trusted-root sigstore/trusted_root.json $keyless_image --yes"
"$cosign" sign --identity-token "$token" --signing-config sigstore/signing_config.json --trusted-root sigstore/trusted_root.json "$keyless_image" --yes
step "cosign verify --trusted-root sigstore/trusted_root.json --certificate-identity alice@example.com --certificate-oidc-issuer $sigstore/oauth2 $keyless_image --output text"
"$cosign" verify --trusted-root sigstore/trusted_root.json --certificate-identity alice@example.com --certificate-oidc-issuer "$sigstore/oauth2" "$keyless_image" --output text
step "cosign verify --trusted-root sigstore/trusted_root.json --certificate-identity bob@example.com --certificate-oidc-issuer $sigstore/oauth2 $keyless_image"
must_fail "$cosign" verify --trusted-root sigstore/trusted_root.json --certificate-identity bob@example.com --certificate-oidc-issuer "$sigstore/oauth2" "$keyless_image"

printf '\n\033[1mThe lab ran offline: registry, image, keys, sign, tree, verify, wrong key refused; an SBOM attested, verified, and refused by policy; keyless signing against a local Sigstore, verified by identity, another identity refused.\033[0m\n'
