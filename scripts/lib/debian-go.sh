# Building real Go tools offline from Debian sid's Go source packages, in GOPATH mode as
# Debian builds them (no module proxy). Sourced by build-cue.sh and build-sigstore-servers.sh.
# Needs only apt access to http://deb.debian.org; the system's apt state is untouched (a
# private APT_CONFIG under the work directory).

# debian_go_fetch WORKDIR PACKAGE...: downloads golang-1.27 and PACKAGE... and unpacks them
# (minus tests, testdata and docs) into WORKDIR/root.
debian_go_fetch() {
  _w=$1; shift
  _a=$_w/apt; _r=$_w/root
  rm -rf "$_a" "$_r"
  mkdir -p "$_a/lists/partial" "$_a/etc/sources.list.d" "$_a/cache/archives/partial" "$_a/debs" "$_r"
  : > "$_a/etc/sources.list"; : > "$_a/status"
  # sid only: golang-1.27 and these libraries' versions exist only there; Packages index only.
  cat > "$_a/etc/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: sid
Components: main
Targets: Packages
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  cat > "$_a/apt.conf" <<CONF
Dir::Etc::SourceList "$_a/etc/sources.list";
Dir::Etc::SourceParts "$_a/etc/sources.list.d";
Dir::State::Lists "$_a/lists";
Dir::State::status "$_a/status";
Dir::Cache "$_a/cache";
APT::Architecture "amd64";
APT::Sandbox::User "root";
Acquire::Languages "none";
CONF
  APT_CONFIG="$_a/apt.conf" apt-get update -qq
  (cd "$_a/debs" && APT_CONFIG="$_a/apt.conf" apt-get download -qq golang-1.27-go golang-1.27-src "$@")
  # = dpkg-deb -x, minus tests/testdata/docs (about a third of the files, 3x faster).
  for _d in "$_a"/debs/*.deb; do
    dpkg-deb --fsys-tarfile "$_d" | tar -x -C "$_r" --exclude='*/testdata' --exclude='*_test.go' \
      --exclude=./usr/share/go-1.27/test --exclude=./usr/share/doc
  done
}

# debian_go_build WORKDIR OUTPUT IMPORTPATH: builds one static binary from WORKDIR/root.
debian_go_build() {
  _r=$1/root
  env GOROOT="$_r/usr/lib/go-1.27" GOPATH="$_r/usr/share/gocode" GO111MODULE=off \
      GOPROXY=off GOTOOLCHAIN=local GOFLAGS= GOENV=off GOTELEMETRY=off CGO_ENABLED=0 \
      GOCACHE="$1/gocache" \
    "$_r/usr/lib/go-1.27/bin/go" build -trimpath -ldflags='-s -w' -o "$2" "$3"
}
