#!/usr/bin/env bash
# Benchmarks cosign-rs against the real cosign and OpenSSL, in one run, and prints ratios.
# A benchmark, not a test: nothing here fails on a slow figure. Usage: scripts/bench.sh [runs]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
runs=${1:-15}
bash scripts/install-peers.sh >/dev/null
peers=${COSIGN_RS_PEERS_DIR:-$root/.peers}/bin

echo "== building (release)"
cargo build --release -q -p cosign
ours=$root/target/release/cosign

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

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
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }

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
