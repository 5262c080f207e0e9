#!/bin/sh
# Builds `k8sadmit` (tools/k8sadmit/main.go) offline from Debian sid's Go source packages: it
# runs an object through the real k8s.io/apiserver mutating and validating admission webhook
# plugins (the code kube-apiserver calls webhooks with) against a webhook URL, so the admission
# webhook is tested through a real admission round trip without a cluster.
# Usage: build-k8sadmit.sh OUTDIR   -> OUTDIR/k8sadmit
# Idempotent: exits at once if OUTDIR/k8sadmit is built from the current source. Work files go
# to OUTDIR/.build, removed on success unless KEEP_WORK=1. About 4 minutes on 2 cores.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
mkdir -p "$1"; OUT=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
source_file=$here/../tools/k8sadmit/main.go
if [ -x "$OUT/k8sadmit" ] && cmp -s "$source_file" "$OUT/main.go"; then
  echo "k8sadmit present: $OUT/k8sadmit"; exit 0
fi
. "$here/lib/debian-go.sh"
W=$OUT/.build; mkdir -p "$W"
# The Debian packages holding k8sadmit's imports (k8s.io/apiserver and what it imports).
# shellcheck disable=SC2046
debian_go_fetch "$W" $(grep -v '^#' "$here/k8sadmit.go-packages.txt")
mkdir -p "$W/root/usr/share/gocode/src/k8sadmit"
cp "$source_file" "$W/root/usr/share/gocode/src/k8sadmit/main.go"
cd "$W"
debian_go_build "$W" "$OUT/k8sadmit.tmp" k8sadmit
mv -f "$OUT/k8sadmit.tmp" "$OUT/k8sadmit"
cp "$source_file" "$OUT/main.go"
[ "${KEEP_WORK:-0}" = 1 ] || rm -rf "$W"
echo "built $OUT/k8sadmit"
