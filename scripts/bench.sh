#!/usr/bin/env bash
# Benchmarks cosign-rs against the real cosign and OpenSSL, in one run, and prints ratios.
# A benchmark, not a test: nothing here fails on a slow figure.
# Usage: scripts/bench.sh [runs] [keys|verify|blob|layouts|keyless|registry|attest|sign|sigstore|admission|all]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
runs=${1:-15}
sections=${2:-all}
bash scripts/install-peers.sh >/dev/null
peers=${COSIGN_RS_PEERS_DIR:-$root/.peers}/bin

echo "== building (release)"
cargo build --release -q -p cosign
ours=$root/target/release/cosign

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Median wall time in milliseconds of running "$@" $runs times.
median_ms() {
  local samples=() start end
  for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s%N)
    samples+=($(( (end - start) / 1000 )))
  done
  printf '%s\n' "${samples[@]}" | sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f\n", m/1000}'
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }

measure() { # name, command...: prints "ms kib"
  local name=$1; shift
  local best_ms="" rss=0
  for _ in 1 2 3; do
    local start end
    start=$(date +%s%N)
    /usr/bin/time -f '%M' -o "$work/rss" "$@" >/dev/null 2>&1
    end=$(date +%s%N)
    local ms=$(( (end - start) / 1000000 ))
    [ -z "$best_ms" ] && best_ms=$ms
    best_ms=$(printf '%s\n%s\n' "$best_ms" "$ms" | sort -n | head -1)
    rss=$(tail -1 "$work/rss")
  done
  printf '  %-22s %8d ms %10.1f MiB\n' "$name" "$best_ms" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')"
  eval "ms_$name=$best_ms; rss_$name=$rss"
}

want() { [ "$sections" = all ] || [ "$sections" = "$1" ]; }

# Pushes a small image of random content as HOST:PORT/REPOSITORY:v1 and prints its digest.
push_random_image() {
  head -c 2048 /dev/urandom > "$work/layer"
  tar cf "$work/layer.tar" -C "$work" layer
  "$peers/crane" append -f "$work/layer.tar" -t "$1:v1" --insecure 2>/dev/null | sed 's/.*@//'
}

# Starts `cosign registry serve` (ours) on a free port, waits for it, and sets the variable
# named $1 to its port.
start_embedded_registry() {
  local port
  port=$(free_port)
  "$ours" registry serve --address "127.0.0.1:$port" >/dev/null 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
  printf -v "$1" '%s' "$port"
}

if want keys; then
echo
echo "== key decryption: scrypt N=65536 r=8 p=1 (criterion, in process) vs OpenSSL's scrypt"
cargo bench -q -p cosign-core --bench key_decryption -- --noplot >/dev/null 2>&1
ours_kdf_ms=$(jq '.median.point_estimate / 1e6' target/criterion/key_decryption/decrypt_cosign_key_p256/new/estimates.json)
openssl_full_ms=$(median_ms openssl kdf -keylen 32 -kdfopt pass:benchmark -kdfopt salt:0123456789abcdef0123456789abcdef \
  -kdfopt n:65536 -kdfopt r:8 -kdfopt p:1 SCRYPT)
openssl_start_ms=$(median_ms openssl kdf -keylen 32 -kdfopt pass:benchmark -kdfopt salt:0123456789abcdef0123456789abcdef \
  -kdfopt n:2 -kdfopt r:8 -kdfopt p:1 SCRYPT)
openssl_kdf_ms=$(awk -v a="$openssl_full_ms" -v b="$openssl_start_ms" 'BEGIN { printf "%.1f", a - b }')
printf '  cosign-rs decrypt of cosign.key (median): %8.1f ms\n' "$ours_kdf_ms"
printf '  openssl kdf SCRYPT, process start removed: %7.1f ms  (%s ms with start)\n' "$openssl_kdf_ms" "$openssl_full_ms"
printf '  ratio cosign-rs / openssl:                 %s   (target <= 1.3x)\n' "$(ratio "$ours_kdf_ms" "$openssl_kdf_ms")"

echo
echo "== public-key from cosign.key (whole process: start, scrypt, print), median of $runs"
(cd "$work" && COSIGN_PASSWORD=pw "$ours" generate-key-pair >/dev/null 2>&1)
for name in ours cosign2 cosign3; do
  case $name in ours) bin=$ours ;; *) bin=$peers/$name ;; esac
  ms=$(cd "$work" && COSIGN_PASSWORD=pw median_ms "$bin" public-key --key cosign.key)
  eval "pk_$name=$ms"
  printf '  %-8s %8.1f ms\n' "$name" "$ms"
done
printf '  ratio cosign-rs / cosign 3.1: %s, / cosign 2.5: %s\n' "$(ratio "$pk_ours" "$pk_cosign3")" "$(ratio "$pk_ours" "$pk_cosign2")"

echo
echo "== generate-key-pair, median of $runs"
for name in ours cosign2 cosign3; do
  case $name in ours) bin=$ours ;; *) bin=$peers/$name ;; esac
  ms=$(cd "$work" && COSIGN_PASSWORD=pw median_ms sh -c "rm -f g.key g.pub; exec '$bin' generate-key-pair --output-key-prefix g")
  eval "gen_$name=$ms"
  printf '  %-8s %8.1f ms\n' "$name" "$ms"
done
printf '  ratio cosign-rs / cosign 3.1: %s, / cosign 2.5: %s\n' "$(ratio "$gen_ours" "$gen_cosign3")" "$(ratio "$gen_ours" "$gen_cosign2")"
fi

if want verify; then
registry_port=$(free_port)
proxy_port=$(free_port)
mkdir -p "$work/registry"
cat > "$work/registry/config.yml" <<CONF
version: 0.1
log: {level: info, accesslog: {disabled: false}}
storage: {filesystem: {rootdirectory: $work/registry/data}}
http: {addr: "127.0.0.1:$registry_port", secret: bench}
CONF
docker-registry serve "$work/registry/config.yml" > "$work/registry/access.log" 2>&1 &
pids+=($!)
python3 scripts/latency_proxy.py "$proxy_port" "127.0.0.1:$registry_port" 25 &
pids+=($!)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$registry_port/v2/" >/dev/null && break; sleep 0.1; done

images=30
echo
echo "== verify: $images images on distribution 2.8, signed by cosign-rs (legacy .sig)"
(cd "$work" && COSIGN_PASSWORD=pw "$ours" generate-key-pair --output-key-prefix bench >/dev/null 2>&1)
direct_refs=()
proxied_refs=()
for i in $(seq "$images"); do
  push_random_image "127.0.0.1:$registry_port/bench/app$i" >/dev/null
  direct_refs+=("127.0.0.1:$registry_port/bench/app$i:v1")
  proxied_refs+=("127.0.0.1:$proxy_port/bench/app$i:v1")
done
(cd "$work" && COSIGN_PASSWORD=pw "$ours" sign --key bench.key --tlog-upload=false --new-bundle-format=false -y "${direct_refs[@]}" >/dev/null 2>&1)

verify_with() {
  local name=$1; shift
  case $name in
    ours) "$ours" verify --key "$work/bench.pub" --insecure-ignore-tlog "$@" ;;
    *) "$peers/$name" verify --key "$work/bench.pub" --insecure-ignore-tlog --allow-http-registry "$@" ;;
  esac
}

echo "  (a) requests per 'verify IMAGE:TAG' (registry access log, after the run)"
for name in ours cosign2 cosign3; do
  before=$(grep -cE '"(GET|HEAD|PUT|POST|PATCH|DELETE) /v2' "$work/registry/access.log" || true)
  verify_with "$name" "${direct_refs[0]}" >/dev/null 2>&1
  sleep 0.2
  after=$(grep -cE '"(GET|HEAD|PUT|POST|PATCH|DELETE) /v2' "$work/registry/access.log" || true)
  printf '      %-8s %d requests\n' "$name" $((after - before))
done

echo "  (b) wall time through a proxy adding 25 ms each way, median of $runs"
for name in ours cosign2 cosign3; do
  ms=$(median_ms verify_with "$name" "${proxied_refs[0]}")
  eval "one_$name=$ms"
  printf '      one image:   %-8s %8.1f ms\n' "$name" "$ms"
done
printf '      ratio cosign-rs / cosign 3.1: %s (target <= 0.5x)\n' "$(ratio "$one_ours" "$one_cosign3")"
for name in ours cosign3; do
  ms=$(runs=3 median_ms verify_with "$name" "${proxied_refs[@]}")
  eval "many_$name=$ms"
  printf '      %d images:   %-8s %8.1f ms (one call)\n' "$images" "$name" "$ms"
done
printf '      ratio cosign-rs / cosign 3.1: %s (target <= 0.2x)\n' "$(ratio "$many_ours" "$many_cosign3")"

echo "  (c) peak RSS of one verify (no proxy)"
for name in ours cosign2 cosign3; do
  case $name in
    ours) /usr/bin/time -f '%M' -o "$work/rss" "$ours" verify --key "$work/bench.pub" --insecure-ignore-tlog "${direct_refs[0]}" >/dev/null 2>&1 ;;
    *) /usr/bin/time -f '%M' -o "$work/rss" "$peers/$name" verify --key "$work/bench.pub" --insecure-ignore-tlog --allow-http-registry "${direct_refs[0]}" >/dev/null 2>&1 ;;
  esac
  kb=$(tail -1 "$work/rss")
  eval "rss_$name=$kb"
  printf '      %-8s %8.1f MiB\n' "$name" "$(awk -v k="$kb" 'BEGIN { print k / 1024 }')"
done
printf '      ratio cosign-rs / cosign 3.1: %s (target: ours <= 20 MiB)\n' "$(ratio "$rss_ours" "$rss_cosign3")"
fi

if want blob; then
echo
echo "== verify-blob of a 1 GiB file (bundle, key), median of 3: wall time and peak RSS"
head -c 1073741824 /dev/zero > "$work/big.bin"
(cd "$work" && COSIGN_PASSWORD=pw "$ours" generate-key-pair --output-key-prefix blob >/dev/null 2>&1)
(cd "$work" && COSIGN_PASSWORD=pw "$ours" sign-blob --key blob.key --tlog-upload=false --bundle big.json big.bin >/dev/null 2>&1)
measure ours "$ours" verify-blob --key "$work/blob.pub" --bundle "$work/big.json" --insecure-ignore-tlog "$work/big.bin"
measure cosign3 "$peers/cosign3" verify-blob --key "$work/blob.pub" --bundle "$work/big.json" --insecure-ignore-tlog "$work/big.bin"
measure hashlib python3 -c 'import hashlib,sys
h=hashlib.sha256()
with open(sys.argv[1],"rb") as f:
    for chunk in iter(lambda: f.read(1<<20), b""): h.update(chunk)
print(h.hexdigest())' "$work/big.bin"
printf '  ratio cosign-rs / hashlib (OpenSSL SHA-256): %s (target <= 1.3x)\n' "$(ratio "$ms_ours" "$ms_hashlib")"
printf '  ratio cosign-rs / cosign 3.1: time %s, peak RSS %s (target: ours <= 32 MiB)\n' \
  "$(ratio "$ms_ours" "$ms_cosign3")" "$(ratio "$rss_ours" "$rss_cosign3")"
rm -f "$work/big.bin"
fi

if want layouts; then
echo
echo "== save and copy of a signed image with a 256 MiB layer (best of 3: wall time, peak RSS)"
source_port=$(free_port)
target_port=$(free_port)
"$ours" registry serve --address "127.0.0.1:$source_port" 2>/dev/null &
pids+=($!)
mkdir -p "$work/target"
cat > "$work/target/config.yml" <<CONF
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/target/data}}
http: {addr: "127.0.0.1:$target_port", secret: bench}
CONF
docker-registry serve "$work/target/config.yml" >/dev/null 2>&1 &
pids+=($!)
for port in "$source_port" "$target_port"; do
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
done
head -c 268435456 /dev/urandom > "$work/big.layer"
tar cf "$work/big.tar" -C "$work" big.layer
rm -f "$work/big.layer"
image=127.0.0.1:$source_port/bench/big:v1
"$peers/crane" append -f "$work/big.tar" -t "$image" --insecure >/dev/null 2>&1
rm -f "$work/big.tar"
(cd "$work" && COSIGN_PASSWORD=pw "$ours" generate-key-pair --output-key-prefix layouts >/dev/null 2>&1)
(cd "$work" && COSIGN_PASSWORD=pw "$peers/cosign3" sign --key layouts.key --tlog-upload=false --use-signing-config=false \
  --allow-http-registry -y "$image" >/dev/null 2>&1)
(cd "$work" && COSIGN_PASSWORD=pw "$peers/cosign2" sign --key layouts.key --tlog-upload=false --allow-http-registry -y "$image" >/dev/null 2>&1)
saved=$work/saved
copies=127.0.0.1:$target_port/bench/copy
echo "  save --dir (both signature formats; cosign 3.1 leaves the bundle out of index.json)"
measure ours sh -c "rm -rf '$saved'; exec '$ours' save --dir '$saved' '$image'"
measure cosign3 sh -c "rm -rf '$saved'; exec '$peers/cosign3' save --allow-http-registry --dir '$saved' '$image'"
printf '  ratio cosign-rs / cosign 3.1: time %s, peak RSS %s\n' "$(ratio "$ms_ours" "$ms_cosign3")" "$(ratio "$rss_ours" "$rss_cosign3")"
echo "  copy to distribution 2.8 (cosign 3.1 copies the .sig image only, not the bundle)"
measure ours sh -c "exec '$ours' copy '$image' '$copies-'\$\$:v1"
measure cosign3 sh -c "exec '$peers/cosign3' copy --allow-http-registry '$image' '$copies-'\$\$:v1"
printf '  ratio cosign-rs / cosign 3.1: time %s, peak RSS %s\n' "$(ratio "$ms_ours" "$ms_cosign3")" "$(ratio "$rss_ours" "$rss_cosign3")"
fi

if want keyless; then
echo
echo "== keyless bundle verification (conformance happy-path-v0.3: Fulcio chain, SCT, Rekor entry, identity)"
cargo bench -q -p cosign-core --bench bundle_verification -- --noplot >/dev/null 2>&1
one_us=$(jq '.median.point_estimate / 1e3' target/criterion/bundle_verification/keyless_bundle/new/estimates.json)
batch_ms=$(jq '.median.point_estimate / 1e6' target/criterion/bundle_verification/keyless_bundles_x1000/new/estimates.json)
printf '  in process (criterion): one bundle %.0f us, 1000 bundles %.0f ms\n' "$one_us" "$batch_ms"
vectors=$root/../shared/conformance
keyless_args=(verify-blob --bundle "$vectors/bundle-verify/happy-path-v0.3/bundle.sigstore.json"
  --trusted-root "$vectors/public-good-trusted_root.json"
  --certificate-identity https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main
  --certificate-oidc-issuer https://token.actions.githubusercontent.com "$vectors/bundle-verify/a.txt")
for name in ours cosign3; do
  case $name in ours) bin=$ours ;; *) bin=$peers/$name ;; esac
  ms=$(median_ms "$bin" "${keyless_args[@]}")
  eval "keyless_$name=$ms"
  printf '  whole process, %-8s %8.1f ms\n' "$name" "$ms"
done
printf '  ratio cosign-rs / cosign 3.1: %s\n' "$(ratio "$keyless_ours" "$keyless_cosign3")"
fi

if want registry; then
echo
echo "== registry serve vs distribution 2.8: crane pushing and pulling a 256 MiB layer, 40 small images"
echo "   (best of 3 wall times of the client; the servers' peak RSS over the whole section)"
ours_port=$(free_port)
dist_port=$(free_port)
mkdir -p "$work/dist" "$work/ours-storage"
"$ours" registry serve --address "127.0.0.1:$ours_port" --storage "$work/ours-storage" 2>/dev/null &
ours_pid=$!
pids+=($ours_pid)
cat > "$work/dist/config.yml" <<CONF
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/dist/data}}
http: {addr: "127.0.0.1:$dist_port", secret: bench}
CONF
docker-registry serve "$work/dist/config.yml" >/dev/null 2>&1 &
dist_pid=$!
pids+=($dist_pid)
for port in "$ours_port" "$dist_port"; do
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
done
# One image with a 256 MiB layer of random bytes, as an OCI layout crane pushes as it is.
head -c 268435456 /dev/urandom > "$work/big.layer"
tar cf "$work/big.tar" -C "$work" big.layer
rm -f "$work/big.layer"
"$peers/crane" append -f "$work/big.tar" -t "127.0.0.1:$dist_port/seed/big:v1" --insecure >/dev/null 2>&1
rm -f "$work/big.tar"
"$peers/crane" pull --format=oci --insecure "127.0.0.1:$dist_port/seed/big:v1" "$work/big-layout" >/dev/null 2>&1
head -c 4096 /dev/urandom > "$work/small.bin"; tar cf "$work/small.tar" -C "$work" small.bin
for name in ours dist; do
  port_var=${name}_port; port=${!port_var}
  measure "push_$name" sh -c "exec '$peers/crane' push --insecure '$work/big-layout' 127.0.0.1:$port/bench/push\$\$:v1"
done
for name in ours dist; do
  port_var=${name}_port; port=${!port_var}
  "$peers/crane" push --insecure "$work/big-layout" "127.0.0.1:$port/bench/big:v1" >/dev/null 2>&1
  measure "pull_$name" sh -c "rm -rf '$work/pulled'; exec '$peers/crane' pull --format=oci --insecure 127.0.0.1:$port/bench/big:v1 '$work/pulled'"
done
for name in ours dist; do
  port_var=${name}_port; port=${!port_var}
  measure "small_$name" sh -c "for i in \$(seq 40); do '$peers/crane' append -f '$work/small.tar' -t 127.0.0.1:$port/bench/small\$\$-\$i:v1 --insecure || exit 1; done"
done
rm -rf "$work/pulled" "$work/big-layout"
hwm() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
ours_rss=$(hwm "$ours_pid"); dist_rss=$(hwm "$dist_pid")
printf '  ratio ours / distribution: push %s, pull %s, 40 small images %s (target <= 1.0x)\n' \
  "$(ratio "$ms_push_ours" "$ms_push_dist")" "$(ratio "$ms_pull_ours" "$ms_pull_dist")" "$(ratio "$ms_small_ours" "$ms_small_dist")"
printf '  server peak RSS: ours %s MiB, distribution %s MiB (target: ours < 64 MiB)\n' "$ours_rss" "$dist_rss"
fi

if want attest; then
echo
echo "== verify-attestation (cyclonedx, bundles on distribution 2.8): cosign-rs vs cosign 3.1"
att_port=$(free_port)
att_proxy=$(free_port)
mkdir -p "$work/att"
cat > "$work/att/config.yml" <<CONF
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/att/data}}
http: {addr: "127.0.0.1:$att_port", secret: bench}
CONF
docker-registry serve "$work/att/config.yml" >/dev/null 2>&1 &
pids+=($!)
python3 scripts/latency_proxy.py "$att_proxy" "127.0.0.1:$att_port" 25 &
pids+=($!)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$att_port/v2/" >/dev/null && break; sleep 0.1; done
(cd "$work" && COSIGN_PASSWORD=pw "$ours" generate-key-pair --output-key-prefix att >/dev/null 2>&1)
printf '{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[{"type":"library","name":"is-number","version":"7.0.0"}]}' > "$work/small.cdx.json"
images=30
direct=()
proxied=()
for i in $(seq "$images"); do
  digest=$(push_random_image "127.0.0.1:$att_port/bench/att$i")
  direct+=("127.0.0.1:$att_port/bench/att$i@$digest")
  proxied+=("127.0.0.1:$att_proxy/bench/att$i@$digest")
done
(cd "$work" && COSIGN_PASSWORD=pw "$ours" attest --key att.key --type cyclonedx --predicate small.cdx.json \
  --tlog-upload=false --use-signing-config=false -y "${direct[@]}" >/dev/null 2>&1)
attest_verify() {
  local name=$1; shift
  case $name in
    ours) "$ours" verify-attestation --key "$work/att.pub" --insecure-ignore-tlog --type cyclonedx "$@" ;;
    *) "$peers/$name" verify-attestation --key "$work/att.pub" --insecure-ignore-tlog --type cyclonedx --allow-http-registry "$@" ;;
  esac
}
echo "  (a) $images images in one call, through a proxy adding 25 ms each way (median of 3)"
for name in ours cosign3; do
  ms=$(runs=3 median_ms attest_verify "$name" "${proxied[@]}")
  eval "att_many_$name=$ms"
  printf '      %-8s %8.1f ms\n' "$name" "$ms"
done
printf '      ratio cosign-rs / cosign 3.1: %s (target <= 0.2x)\n' "$(ratio "$att_many_ours" "$att_many_cosign3")"

echo "  (b) one image with a 10 MiB CycloneDX attestation, checked by a Rego policy (best of 3)"
python3 - "$work/big.cdx.json" <<'PY'
import json, sys
components = []
i = 0
size = 0
while size < 10 * 1024 * 1024:
    c = {"type": "library", "name": f"package-{i}", "version": f"{i % 97}.{i % 13}.{i % 7}",
         "purl": f"pkg:npm/package-{i}@{i % 97}.{i % 13}.{i % 7}", "licenses": [{"license": {"id": "MIT"}}]}
    components.append(c)
    size += len(json.dumps(c)) + 1
    i += 1
json.dump({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": components}, open(sys.argv[1], "w"))
PY
digest=$(push_random_image "127.0.0.1:$att_port/bench/bigatt")
big="127.0.0.1:$att_port/bench/bigatt@$digest"
(cd "$work" && COSIGN_PASSWORD=pw "$ours" attest --key att.key --type cyclonedx --predicate big.cdx.json \
  --tlog-upload=false --use-signing-config=false -y "$big" >/dev/null 2>&1)
cp "$root/examples/policies/no-left-pad.rego" "$work/no-left-pad.rego"
printf '  predicate %s MiB\n' "$(awk -v b="$(wc -c < "$work/big.cdx.json")" 'BEGIN { printf "%.1f", b / 1048576 }')"
measure ours "$ours" verify-attestation --key "$work/att.pub" --insecure-ignore-tlog --type cyclonedx --policy "$work/no-left-pad.rego" "$big"
measure cosign3 "$peers/cosign3" verify-attestation --key "$work/att.pub" --insecure-ignore-tlog --type cyclonedx --allow-http-registry --policy "$work/no-left-pad.rego" "$big"
# Ours evaluates Rego in a worker process: the figure above is the larger of the two processes'
# peaks; the verifier without a policy bounds the other, so their sum is at most the two added.
measure ours_verifier "$ours" verify-attestation --key "$work/att.pub" --insecure-ignore-tlog --type cyclonedx "$big"
printf '  ratio cosign-rs / cosign 3.1: time %s, peak RSS %s (targets <= 0.5x, <= 0.5x)\n' \
  "$(ratio "$ms_ours" "$ms_cosign3")" "$(ratio "$rss_ours" "$rss_cosign3")"
printf '  ours, verifier and Rego worker together: at most %.1f MiB (%s of cosign 3.1)\n' \
  "$(awk -v a="$rss_ours" -v b="$rss_ours_verifier" 'BEGIN { print (a + b) / 1024 }')" \
  "$(ratio "$((rss_ours + rss_ours_verifier))" "$rss_cosign3")"
fi

if want sign; then
echo
echo "== signing: keyless (the keyless test stack) and with a key, cosign-rs vs cosign 3.1"
sign_port=$(free_port)
sign_proxy=$(free_port)
mkdir -p "$work/sign"
cat > "$work/sign/config.yml" <<CONF
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/sign/data}}
http: {addr: "127.0.0.1:$sign_port", secret: bench}
CONF
docker-registry serve "$work/sign/config.yml" >/dev/null 2>&1 &
pids+=($!)
python3 scripts/latency_proxy.py "$sign_proxy" "127.0.0.1:$sign_port" 25 &
pids+=($!)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$sign_port/v2/" >/dev/null && break; sleep 0.1; done
# The keyless stack (Fulcio and Rekor v1 from @sigstore/mock, the real timestamp-server), until
# its standard input closes; Fulcio and Rekor behind a second 25 ms proxy.
cargo build -q -p cosign-testkit --example keyless_stack
mkfifo "$work/stack-in"
"$root/target/debug/examples/keyless_stack" v1 < "$work/stack-in" > "$work/stack.json" &
stack_pid=$!
exec 4> "$work/stack-in"
for _ in $(seq 300); do [ -s "$work/stack.json" ] && break; sleep 0.1; done
stack_url=$(jq -r .url "$work/stack.json")
stack_proxy=$(free_port)
# (Without the stack's input: a child holding it would keep the stack from stopping.)
python3 scripts/latency_proxy.py "$stack_proxy" "${stack_url#http://}" 25 4>&- &
pids+=($!)
token=$(jq -r .token "$work/stack.json")
trusted_root=$(jq -r .trustedRoot "$work/stack.json")
jq --arg from "$stack_url" --arg to "http://127.0.0.1:$stack_proxy" \
  '(.caUrls[].url, .rekorTlogUrls[].url) |= sub($from; $to)' "$(jq -r .signingConfig "$work/stack.json")" \
  > "$work/signing_config.json"
images=50
direct=()
proxied=()
for i in $(seq "$images"); do
  digest=$(push_random_image "127.0.0.1:$sign_port/bench/sign$i")
  direct+=("127.0.0.1:$sign_port/bench/sign$i@$digest")
  proxied+=("127.0.0.1:$sign_proxy/bench/sign$i@$digest")
done
keyless_sign() {
  local name=$1; shift
  case $name in
    ours) "$ours" sign -y --identity-token "$token" --signing-config "$work/signing_config.json" --trusted-root "$trusted_root" "$@" ;;
    *) "$peers/$name" sign -y --allow-http-registry --identity-token "$token" --signing-config "$work/signing_config.json" --trusted-root "$trusted_root" "$@" ;;
  esac
}
echo "  (a) keyless sign of $images images in one call, registry, Fulcio and Rekor each behind a 25 ms proxy (median of 3)"
for name in ours cosign3; do
  ms=$(runs=3 median_ms keyless_sign "$name" "${proxied[@]}")
  eval "keyless_many_$name=$ms"
  printf '      %-8s %8.1f ms\n' "$name" "$ms"
done
printf '      ratio cosign-rs / cosign 3.1: %s (target <= 0.1x)\n' "$(ratio "$keyless_many_ours" "$keyless_many_cosign3")"

echo "  (b) sign --key of $images images in one call, on loopback (median of 3)"
(cd "$work" && COSIGN_PASSWORD=pw "$ours" generate-key-pair --output-key-prefix signer >/dev/null 2>&1)
key_sign() {
  local name=$1; shift
  case $name in
    ours) COSIGN_PASSWORD=pw "$ours" sign -y --key "$work/signer.key" --tlog-upload=false "$@" ;;
    *) COSIGN_PASSWORD=pw "$peers/$name" sign -y --allow-http-registry --key "$work/signer.key" --tlog-upload=false --use-signing-config=false "$@" ;;
  esac
}
for name in ours cosign3; do
  ms=$(runs=3 median_ms key_sign "$name" "${direct[@]}")
  eval "key_many_$name=$ms"
  printf '      %-8s %8.1f ms\n' "$name" "$ms"
done
printf '      ratio cosign-rs / cosign 3.1: %s (target <= 0.05x; distribution 2.8 has no referrers API, and its own CPU per run is above the target)\n' "$(ratio "$key_many_ours" "$key_many_cosign3")"

echo "  (b') the same on cosign-rs's registry (registry serve: referrers API), fresh images for each side"
start_embedded_registry embedded_port
for name in ours cosign3; do
  refs=()
  for i in $(seq "$images"); do
    digest=$(push_random_image "127.0.0.1:$embedded_port/bench/$name$i")
    refs+=("127.0.0.1:$embedded_port/bench/$name$i@$digest")
  done
  ms=$(runs=3 median_ms key_sign "$name" "${refs[@]}")
  eval "key_embedded_$name=$ms"
  printf '      %-8s %8.1f ms\n' "$name" "$ms"
done
printf '      ratio cosign-rs / cosign 3.1: %s (target <= 0.05x)\n' "$(ratio "$key_embedded_ours" "$key_embedded_cosign3")"

echo "  (c) keyless sign-blob of 1 GiB (no proxy; best of 3) against OpenSSL's SHA-256 of the same file"
head -c $((1024 * 1024 * 1024)) /dev/urandom > "$work/big.bin"
measure openssl openssl dgst -sha256 "$work/big.bin"
measure ours "$ours" sign-blob -y --identity-token "$token" --signing-config "$(jq -r .signingConfig "$work/stack.json")" \
  --trusted-root "$trusted_root" --bundle "$work/big.sigstore.json" "$work/big.bin"
rm -f "$work/big.bin"
printf '      ratio cosign-rs / openssl sha256: %s (target <= 1.3x); peak RSS %.1f MiB (target <= 32 MiB)\n' \
  "$(ratio "$ms_ours" "$ms_openssl")" "$(awk -v k="$rss_ours" 'BEGIN { print k / 1024 }')"
# Closing its input stops the stack and the servers it started; wait for that.
exec 4>&-
wait "$stack_pid"
fi

if want sigstore; then
echo
echo "== the local Sigstore (cosign sigstore serve): its log against the real rekor-server, and the keyless lab round trip"
cargo build --release -q -p cosign-sigstore --example log_load
load=$root/target/release/examples/log_load
entries=3000
clients=64
# Each server on one core (taskset -c 0), the load from the other.
sigstore_port=$(free_port)
taskset -c 0 "$ours" sigstore serve --address "127.0.0.1:$sigstore_port" --storage "$work/sigstore-storage" --out "$work/sigstore" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 200); do curl -fs "http://127.0.0.1:$sigstore_port/checkpoint" >/dev/null && break; sleep 0.05; done
openssl genpkey -algorithm ED25519 -out "$work/rekor-signer.pem" 2>/dev/null
rekor_port=$(free_port)
mkdir -p "$work/rekor-storage"
taskset -c 0 "$peers/rekor-server" serve --http-address 127.0.0.1 --http-port "$rekor_port" \
  --grpc-address 127.0.0.1 --grpc-port "$(free_port)" --http-metrics-port "$(free_port)" \
  --storage-dir "$work/rekor-storage" --signer-filepath "$work/rekor-signer.pem" --hostname 127.0.0.1 \
  --checkpoint-interval 100ms --batch-max-age 20ms >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 200); do curl -s "http://127.0.0.1:$rekor_port/" >/dev/null && break; sleep 0.05; done
echo "  (a) $entries hashedrekord entries appended with inclusion proofs, $clients clients, the server on one core"
for name in ours rekor-server; do
  case $name in ours) port=$sigstore_port ;; *) port=$rekor_port ;; esac
  line=$(taskset -c 1 "$load" "127.0.0.1:$port" "$entries" "$clients")
  rate=$(echo "$line" | awk '{print $6}')
  eval "append_rate_${name//-/_}=$rate"
  printf '      %-13s %8s entries/s (%s)\n' "$name" "$rate" "$line"
done
printf '      ratio cosign-rs / rekor-server (entries per second): %s\n' "$(ratio "$append_rate_ours" "$append_rate_rekor_server")"
echo "  (b) the keyless lab round trip on cosign-rs's registry: token, sign an image, verify it by identity (median of $runs)"
start_embedded_registry lab_port
round=0
round_trip() {
  local name=$1 image token
  round=$((round + 1))
  image=127.0.0.1:$lab_port/lab/$name$round@$(push_random_image "127.0.0.1:$lab_port/lab/$name$round")
  local start end
  start=$(date +%s%N)
  token=$(curl -fs "http://127.0.0.1:$sigstore_port/oauth2/token?sub=alice@example.com")
  case $name in
    ours)
      "$ours" sign -y --identity-token "$token" --signing-config "$work/sigstore/signing_config.json" --trusted-root "$work/sigstore/trusted_root.json" "$image" >/dev/null 2>&1
      "$ours" verify --trusted-root "$work/sigstore/trusted_root.json" --certificate-identity alice@example.com --certificate-oidc-issuer "http://127.0.0.1:$sigstore_port/oauth2" "$image" >/dev/null 2>&1 ;;
    *)
      "$peers/$name" sign -y --allow-http-registry --identity-token "$token" --signing-config "$work/sigstore/signing_config.json" --trusted-root "$work/sigstore/trusted_root.json" "$image" >/dev/null 2>&1
      "$peers/$name" verify --allow-http-registry --trusted-root "$work/sigstore/trusted_root.json" --certificate-identity alice@example.com --certificate-oidc-issuer "http://127.0.0.1:$sigstore_port/oauth2" "$image" >/dev/null 2>&1 ;;
  esac
  end=$(date +%s%N)
  echo $(( (end - start) / 1000 ))
}
for name in ours cosign3; do
  samples=()
  for _ in $(seq "$runs"); do samples+=("$(round_trip "$name")"); done
  ms=$(printf '%s\n' "${samples[@]}" | sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f\n", m/1000}')
  eval "lab_$name=$ms"
  printf '      %-8s %8.1f ms\n' "$name" "$ms"
done
printf '      ratio cosign-rs / cosign 3.1: %s\n' "$(ratio "$lab_ours" "$lab_cosign3")"
fi

if want admission; then
echo
echo "== admission webhook (policy-controller serve, over TLS): a pod of 3 images signed by cosign-rs (legacy .sig)"
cargo build --release -q -p cosign-admission --bin policy-controller --example admission_load
controller=$root/target/release/policy-controller
load=$root/target/release/examples/admission_load
start_embedded_registry admission_port
admission_proxy=$(free_port)
python3 scripts/latency_proxy.py "$admission_proxy" "127.0.0.1:$admission_port" 25 &
pids+=($!)
(cd "$work" && COSIGN_PASSWORD=pw "$ours" generate-key-pair --output-key-prefix admission >/dev/null 2>&1)
direct=()
proxied=()
for i in 1 2 3; do
  digest=$(push_random_image "127.0.0.1:$admission_port/bench/pod$i")
  direct+=("127.0.0.1:$admission_port/bench/pod$i@$digest")
  proxied+=("127.0.0.1:$admission_proxy/bench/pod$i@$digest")
done
(cd "$work" && COSIGN_PASSWORD=pw "$ours" sign --key admission.key --tlog-upload=false --new-bundle-format=false -y "${direct[@]}" >/dev/null 2>&1)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -addext basicConstraints=critical,CA:FALSE -keyout "$work/webhook.key" -out "$work/webhook.crt" 2>/dev/null
{
  printf 'apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: bench}\nspec:\n  images: [{glob: "**"}]\n'
  printf '  authorities:\n  - name: bench-key\n    key:\n      data: |\n'
  sed 's/^/        /' "$work/admission.pub"
} > "$work/signed-policy.yaml"
printf 'apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: open}\nspec:\n  images: [{glob: "**"}]\n  authorities: [{static: {action: pass}}]\n' > "$work/static-policy.yaml"
# Starts policy-controller serve with the policy file $2 and options after it; sets the
# variable named $1 to its port and ${1}_pid to its process id.
start_webhook() {
  local variable=$1 policy=$2 port
  shift 2
  port=$(free_port)
  "$controller" serve --address "127.0.0.1:$port" --tls-cert "$work/webhook.crt" --tls-key "$work/webhook.key" \
    --policy "$policy" "$@" >/dev/null 2>&1 &
  pids+=($!)
  printf -v "${variable}_pid" '%s' "$!"
  for _ in $(seq 100); do curl -fs --cacert "$work/webhook.crt" "https://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  printf -v "$variable" '%s' "$port"
}
field() { jq -r ".$1" <<<"$2"; }
list() { local IFS=,; echo "$*"; }

start_webhook warm_port "$work/signed-policy.yaml"
"$load" --url "https://127.0.0.1:$warm_port/validate" --ca "$work/webhook.crt" --rate 1 --count 1 --images "$(list "${direct[@]}")" >/dev/null
line=$("$load" --url "https://127.0.0.1:$warm_port/validate" --ca "$work/webhook.crt" --rate 1000 --count 10000 --images "$(list "${direct[@]}")")
echo "  (a) warm cache: 10000 reviews at 1000 per second, the load generator on the same 2 cores"
printf '      p50 %.2f ms, p99 %.2f ms, max %.2f ms; %s not allowed; %.0f reviews/s achieved (target p99 <= 2 ms)\n' \
  "$(field p50_ms "$line")" "$(field p99_ms "$line")" "$(field max_ms "$line")" "$(field not_allowed "$line")" "$(field achieved_rps "$line")"

start_webhook cold_port "$work/signed-policy.yaml" --cache-ttl 0
line=$("$load" --url "https://127.0.0.1:$cold_port/validate" --ca "$work/webhook.crt" --rate 2 --count "$runs" --images "$(list "${proxied[@]}")")
cold_ms=$(field p50_ms "$line")
echo "  (b) cold (no cache), the registry behind a proxy adding 25 ms each way: median of $runs reviews against one verify of one image"
printf '      webhook, 3 images: %8.1f ms (%s not allowed)\n' "$cold_ms" "$(field not_allowed "$line")"
for name in ours cosign3; do
  case $name in
    ours) ms=$(median_ms "$ours" verify --key "$work/admission.pub" --insecure-ignore-tlog "${proxied[0]}") ;;
    *) ms=$(median_ms "$peers/$name" verify --key "$work/admission.pub" --insecure-ignore-tlog --allow-http-registry "${proxied[0]}") ;;
  esac
  eval "one_verify_$name=$ms"
  printf '      verify, 1 image, %-8s %8.1f ms\n' "$name" "$ms"
done
printf '      ratio webhook / one verify: %s of cosign-rs'"'"'s (target <= 1.5x), %s of cosign 3.1'"'"'s\n' \
  "$(ratio "$cold_ms" "$one_verify_ours")" "$(ratio "$cold_ms" "$one_verify_cosign3")"

start_webhook memory_port "$work/static-policy.yaml"
"$load" --url "https://127.0.0.1:$memory_port/validate" --ca "$work/webhook.crt" --rate 1000 --count 3334 --random-images 127.0.0.1:5000/bench/random >/dev/null
cached=$(curl -fs --cacert "$work/webhook.crt" "https://127.0.0.1:$memory_port/metrics" | awk '/^policy_controller_cached_images / {print $2}')
echo "  (c) memory with $cached cached digests (3334 reviews of 3 random digests, a static pass policy)"
awk '/VmRSS|VmHWM/ { printf "      %s %.1f MiB\n", $1, $2 / 1024 }' "/proc/${memory_port_pid}/status"
echo "      (target <= 64 MiB)"
fi
