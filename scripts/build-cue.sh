#!/bin/sh
# Builds the real `cue` CLI (CUE 0.15.x) offline from Debian sid's Go source packages.
# Usage: build-cue.sh OUTDIR      -> OUTDIR/cue
# Idempotent: exits at once if OUTDIR/cue already runs. Work files go to $CUE_BUILD_WORK
# (default OUTDIR/.cue-build), removed on success unless KEEP_WORK=1 (~55 MB of .debs,
# ~250 MB unpacked, ~280 MB Go build cache).
set -eu
[ $# -ge 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
mkdir -p "$1"; OUT=$(cd "$1" && pwd)
if [ -x "$OUT/cue" ] && "$OUT/cue" version >/dev/null 2>&1; then
  echo "cue present: $OUT/cue"; exit 0
fi
. "$(dirname "$0")/lib/debian-go.sh"
W=${CUE_BUILD_WORK:-$OUT/.cue-build}; mkdir -p "$W"; W=$(cd "$W" && pwd)
# The transitive imports of cuelang.org/go/cmd/cue (from `go list -deps`; the Debian
# package declares no Depends, and the libraries' Depends over-approximate, e.g. cobra->viper).
debian_go_fetch "$W" \
  golang-github-cue-lang-cue-dev \
  golang-github-cue-labs-oci-dev \
  golang-github-cockroachdb-apd-dev \
  golang-github-emicklei-proto-dev \
  golang-github-protocolbuffers-txtpbfmt-dev \
  golang-github-google-uuid-dev \
  golang-github-mitchellh-go-wordwrap-dev \
  golang-github-opencontainers-go-digest-dev \
  golang-github-opencontainers-image-spec-dev \
  golang-github-pelletier-go-toml.v2-dev \
  golang-github-rogpeppe-go-internal-dev \
  golang-github-spf13-cobra-dev \
  golang-github-spf13-pflag-dev \
  golang-gopkg-yaml.v3-dev \
  golang-golang-x-mod-dev \
  golang-golang-x-net-dev \
  golang-golang-x-oauth2-dev \
  golang-golang-x-sync-dev \
  golang-golang-x-text-dev \
  golang-golang-x-tools-dev
# Debian ships apd at github.com/cockroachdb/apd; cue imports github.com/cockroachdb/apd/v3.
R=$W/root
[ -e "$R/usr/share/gocode/src/github.com/cockroachdb/apd/v3" ] ||
  ln -s . "$R/usr/share/gocode/src/github.com/cockroachdb/apd/v3"
cd "$W"
debian_go_build "$W" "$OUT/cue.tmp" cuelang.org/go/cmd/cue
"$OUT/cue.tmp" version | grep -q 'CUE language version v0\.15\.' ||
  { echo "built cue is not 0.15.x:" >&2; "$OUT/cue.tmp" version >&2; exit 1; }
mv -f "$OUT/cue.tmp" "$OUT/cue"
[ "${KEEP_WORK:-0}" = 1 ] || rm -rf "$W"
"$OUT/cue" version | sed -n 3p
