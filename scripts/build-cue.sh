#!/bin/sh
# Builds the real `cue` CLI (CUE 0.15.x) offline from Debian sid's Go source packages.
# Usage: build-cue.sh OUTDIR      -> OUTDIR/cue
# Idempotent: exits at once if OUTDIR/cue already runs. Needs only apt access to
# http://deb.debian.org; the system's apt state is untouched (private APT_CONFIG).
# Work files go to $CUE_BUILD_WORK (default OUTDIR/.cue-build), removed on success
# unless KEEP_WORK=1 (~55 MB of .debs, ~360 MB unpacked, ~280 MB Go build cache).
set -eu
[ $# -ge 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
mkdir -p "$1"; OUT=$(cd "$1" && pwd)
if [ -x "$OUT/cue" ] && "$OUT/cue" version >/dev/null 2>&1; then
  echo "cue present: $OUT/cue"; exit 0
fi
W=${CUE_BUILD_WORK:-$OUT/.cue-build}; mkdir -p "$W"; W=$(cd "$W" && pwd)
A=$W/apt; R=$W/root
rm -rf "$A" "$R"
mkdir -p "$A/lists/partial" "$A/etc/sources.list.d" "$A/cache/archives/partial" "$A/debs" "$R"
: > "$A/etc/sources.list"; : > "$A/status"
# sid only: golang-1.27 and cue 0.15 exist only there; Packages index only (~11 MB).
cat > "$A/etc/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: sid
Components: main
Targets: Packages
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
cat > "$A/apt.conf" <<CONF
Dir::Etc::SourceList "$A/etc/sources.list";
Dir::Etc::SourceParts "$A/etc/sources.list.d";
Dir::State::Lists "$A/lists";
Dir::State::status "$A/status";
Dir::Cache "$A/cache";
APT::Architecture "amd64";
APT::Sandbox::User "root";
Acquire::Languages "none";
CONF
export APT_CONFIG="$A/apt.conf"
apt-get update -qq
# The transitive imports of cuelang.org/go/cmd/cue (from `go list -deps`; the Debian
# package declares no Depends, and the libraries' Depends over-approximate, e.g. cobra->viper).
cd "$A/debs"
apt-get download -qq \
  golang-1.27-go golang-1.27-src \
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
# = dpkg-deb -x, minus tests/testdata/docs (250 MB / 10k files instead of 360 MB / 25k; 3x faster).
for d in ./*.deb; do
  dpkg-deb --fsys-tarfile "$d" | tar -x -C "$R" --exclude='*/testdata' --exclude='*_test.go' \
    --exclude=./usr/share/go-1.27/test --exclude=./usr/share/doc
done
# Debian ships apd at github.com/cockroachdb/apd; cue imports github.com/cockroachdb/apd/v3.
[ -e "$R/usr/share/gocode/src/github.com/cockroachdb/apd/v3" ] ||
  ln -s . "$R/usr/share/gocode/src/github.com/cockroachdb/apd/v3"
cd "$W"
env GOROOT="$R/usr/lib/go-1.27" GOPATH="$R/usr/share/gocode" GO111MODULE=off \
    GOPROXY=off GOTOOLCHAIN=local GOFLAGS= GOENV=off GOTELEMETRY=off CGO_ENABLED=0 \
    GOCACHE="$W/gocache" \
  "$R/usr/lib/go-1.27/bin/go" build -trimpath -ldflags='-s -w' -o "$OUT/cue.tmp" cuelang.org/go/cmd/cue
"$OUT/cue.tmp" version | grep -q 'CUE language version v0\.15\.' ||
  { echo "built cue is not 0.15.x:" >&2; "$OUT/cue.tmp" version >&2; exit 1; }
mv -f "$OUT/cue.tmp" "$OUT/cue"
[ "${KEEP_WORK:-0}" = 1 ] || rm -rf "$W"
"$OUT/cue" version | sed -n 3p
