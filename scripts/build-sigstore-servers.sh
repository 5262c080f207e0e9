#!/bin/sh
# Builds two real Sigstore servers for the keyless test stack offline from Debian sid's Go
# source packages: `timestamp-server` (sigstore/timestamp-authority 2.x, an RFC 3161 TSA) and
# `rekor-server` (sigstore/rekor-tiles 2.x with the posix backend, Rekor v2).
# Usage: build-sigstore-servers.sh OUTDIR   -> OUTDIR/timestamp-server, OUTDIR/rekor-server
# Idempotent: exits at once if both already run. Work files go to OUTDIR/.build (~100 MB of
# .debs, ~1 GB with the Go build cache), removed on success unless KEEP_WORK=1. ~3 minutes.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
mkdir -p "$1"; OUT=$(cd "$1" && pwd)
if [ -x "$OUT/timestamp-server" ] && [ -x "$OUT/rekor-server" ] &&
   "$OUT/timestamp-server" --help >/dev/null 2>&1 && "$OUT/rekor-server" --help >/dev/null 2>&1; then
  echo "sigstore servers present: $OUT"; exit 0
fi
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/debian-go.sh"
W=$OUT/.build; mkdir -p "$W"
# The Debian packages holding the non-standard imports of both commands (`go list -deps`,
# each package directory mapped to the .deb that ships it).
# shellcheck disable=SC2046
debian_go_fetch "$W" $(grep -v '^#' "$here/sigstore-servers.go-packages.txt")
# rekor-tiles' module path is .../rekor-tiles/v2; Debian ships it without the /v2 directory.
R=$W/root
[ -e "$R/usr/share/gocode/src/github.com/sigstore/rekor-tiles/v2" ] ||
  ln -s . "$R/usr/share/gocode/src/github.com/sigstore/rekor-tiles/v2"
cd "$W"
debian_go_build "$W" "$OUT/timestamp-server.tmp" github.com/sigstore/timestamp-authority/v2/cmd/timestamp-server
debian_go_build "$W" "$OUT/rekor-server.tmp" github.com/sigstore/rekor-tiles/v2/cmd/rekor-server/posix
mv -f "$OUT/timestamp-server.tmp" "$OUT/timestamp-server"
mv -f "$OUT/rekor-server.tmp" "$OUT/rekor-server"
[ "${KEEP_WORK:-0}" = 1 ] || rm -rf "$W"
echo "built $OUT/timestamp-server and $OUT/rekor-server"
