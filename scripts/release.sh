#!/usr/bin/env bash
# make release: every binary awskeep ships, reproducibly, into dist/ (or $1):
#
#   dist/<os>_<arch>/          awskeep (the front), awskeep-full, awskeep-keyring for
#                              linux and darwin, amd64 and arm64, static (CGO_ENABLED=0);
#                              on linux also the plugins and the YubiHSM simulator. On linux
#                              the front is C (cmd/cfront/front.c, C11, static against
#                              glibc: gcc, and aarch64-linux-gnu-gcc for arm64); on darwin
#                              it is the Go front, cmd/awskeep
#   dist/sbom/<os>_<arch>/     a CycloneDX SBOM (JSON) of each binary, by cyclonedx-gomod
#                              (the linux C front's, written here: glibc and libgcc, see below)
#   dist/share/                man pages (make man) and bash, zsh and fish completions
#   dist/*.deb, dist/*.rpm     the packages (scripts/package.sh, nfpm)
#   dist/SHA256SUMS            sha256 of every file above
#
# What is built is the commit HEAD ($RELEASE_COMMIT if set), exported with git archive
# into a temporary directory: uncommitted changes in the work tree are not in a release.
# Reproducible: the same commit built with the same Go toolchain gives the same bytes
# (make release-test builds twice and compares SHA256SUMS). For that: -trimpath (no build
# directory in the binaries), no VCS stamp and an empty build id, version, commit and date
# from git (the date is the commit's, and SOURCE_DATE_EPOCH, the commit time, dates man
# pages and package contents). The C front likewise: compiled in the exported tree with
# -ffile-prefix-map (no temporary directory in it), no build id (-Wl,--build-id=none),
# stripped like the Go binaries (-s), no __DATE__ or __TIME__. It carries no version of its
# own: `awskeep --version` is answered by the awskeep-full it runs. Same compiler and libc
# packages, same bytes (BUILDINFO names them).
#
# The plugins: pkcs11 is the one that needs C (it dlopens vendor PKCS#11 modules), so it
# links glibc dynamically, cross-compiled for arm64 with Debian's gcc-aarch64-linux-gnu,
# and as a position-independent executable (ASLR, as Debian builds C programs). The static
# binaries cannot be PIE: Go's PIE without cgo needs the dynamic loader, and static means
# running on any Linux (glibc or musl) with nothing else installed;
# every other plugin is pure Go and static (plugin-tpm links C in the Makefile's dev build
# only for its test simulator; its binary needs none). Plugins are Linux only: darwin has
# no PKCS#11 vendor modules worth the cgo cross toolchain here, no TPM 2.0, and the host's
# plugin hardening (prctl, Pdeathsig) is Linux's.
#
# VERSION overrides the version; by default it is the nearest tag vX.Y.Z (without the v),
# else a pre-release 0.0.0-dev.<commit time>.g<12 hex digits of the commit> (semantic
# versioning; the packages say 0.0.0~dev..., which sorts before any 0.0.0 and any tag).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PWD/.tools/bin:$PATH"

dist=$(realpath -m "${1:-dist}")
root=$PWD

die() { echo "release: $*" >&2; exit 1; }
for tool in cyclonedx-gomod nfpm aarch64-linux-gnu-gcc gcc dpkg-query; do
	command -v "$tool" >/dev/null || die "$tool is missing: run make deps"
done
# The C front links glibc statically: libc.a of libc6-dev, and of libc6-dev-arm64-cross.
for cc in gcc aarch64-linux-gnu-gcc; do
	[[ -f $($cc -print-file-name=libc.a) ]] ||
		die "$cc finds no static glibc (libc.a): run make deps (apt-get install libc6-dev libc6-dev-arm64-cross)"
done

commit=$(git rev-parse --verify "${RELEASE_COMMIT:-HEAD}^{commit}") || die "no commit ${RELEASE_COMMIT:-HEAD}"
epoch=$(git log -1 --format=%ct "$commit")
date=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
if [[ -z ${VERSION:-} ]]; then
	if tag=$(git describe --tags --exact-match --match 'v[0-9]*' "$commit" 2>/dev/null); then
		VERSION=${tag#v}
	else
		VERSION=0.0.0-dev.$(date -u -d "@$epoch" +%Y%m%d%H%M%S).g${commit:0:12}
	fi
fi
[[ $VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]] || die "VERSION $VERSION is not semantic (X.Y.Z[-pre])"
export SOURCE_DATE_EPOCH=$epoch VERSION
if [[ $commit == $(git rev-parse HEAD) && -n $(git status --porcelain --untracked-files=no) ]]; then
	echo "release: note: the work tree has uncommitted changes; the release is commit ${commit:0:12} without them"
fi
echo "release: awskeep $VERSION (commit $commit, $date) into $dist"

src=$(mktemp -d "${TMPDIR:-/tmp}/awskeep-release.XXXXXX")
trap 'rm -rf "$src"' EXIT
git archive --format=tar "$commit" | tar -x -C "$src"
rm -rf "$dist"
mkdir -p "$dist"

stamp=github.com/awskeep/awskeep/plugins
ldflags="-s -w -buildid= -X $stamp.releaseVersion=$VERSION -X $stamp.releaseCommit=$commit -X $stamp.releaseDate=$date"
# GOFLAGS from the environment could change the bytes; the release sets its own.
export GOFLAGS=-mod=readonly GOTOOLCHAIN=local
build() { # os arch cgo module package
	local os=$1 arch=$2 cgo=$3 module=$4 pkg=$5 cc=gcc out="$dist/$1_$2" mode=exe
	[[ $arch == arm64 && $os == linux ]] && cc=aarch64-linux-gnu-gcc
	[[ $cgo == 1 ]] && mode=pie
	mkdir -p "$out"
	echo "release: $os/$arch $(basename "$pkg")$([[ $cgo == 1 ]] && echo " (cgo, $cc, pie)")"
	(cd "$src/$module" && GOOS=$os GOARCH=$arch CGO_ENABLED=$cgo CC=$cc \
		go build -trimpath -buildvcs=false -buildmode=$mode -ldflags="$ldflags" -o "$out/" "./$pkg")
}

# The linux front: C, static-pie against glibc.
build_cfront() { # arch
	local arch=$1 cc=gcc out="$dist/linux_$1"
	[[ $arch == arm64 ]] && cc=aarch64-linux-gnu-gcc
	mkdir -p "$out"
	echo "release: linux/$arch awskeep (C, $cc, static)"
	(cd "$src" && "$cc" -std=c11 -O2 -Wall -Wextra -Werror -static-pie \
		-ffile-prefix-map="$src"=. -Wl,--build-id=none -s \
		-o "$out/awskeep" cmd/cfront/front.c)
}

# The host: the front, the full program it runs and the keyring helper, side by side.
for platform in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64; do
	os=${platform%/*} arch=${platform#*/}
	if [[ $os == linux ]]; then
		build_cfront "$arch"
	else
		build "$os" "$arch" 0 cmd awskeep
	fi
	build "$os" "$arch" 0 cmd awskeep-full
	build "$os" "$arch" 0 core cmd/awskeep-keyring
done
# The plugins and the YubiHSM simulator, Linux only (see above).
for arch in amd64 arm64; do
	build linux "$arch" 1 plugin-softhsm cmd/awskeep-plugin-pkcs11
	build linux "$arch" 0 plugin-tpm cmd/awskeep-plugin-tpm
	build linux "$arch" 0 plugin-yubihsm cmd/awskeep-plugin-yubihsm
	build linux "$arch" 0 plugin-yubihsm cmd/awskeep-yubihsm-sim
	build linux "$arch" 0 plugin-tink cmd/awskeep-plugin-tink
	build linux "$arch" 0 plugin-vault cmd/awskeep-plugin-vault
done

# Man pages (make man's generator, dated by SOURCE_DATE_EPOCH) and completions, from this
# machine's own build of the release.
host=$(go env GOHOSTOS)_$(go env GOHOSTARCH)
[[ -x $dist/$host/awskeep-full ]] || die "no build for this machine ($host) to write man pages and completions with"
(cd "$src/cmd" && CGO_ENABLED=0 go run -trimpath -tags mangen ./awskeep-full gen-man "$dist/share/man/man1" >/dev/null)
mkdir -p "$dist/share/completions"
"$dist/$host/awskeep-full" completion bash >"$dist/share/completions/awskeep.bash"
"$dist/$host/awskeep-full" completion zsh >"$dist/share/completions/_awskeep"
"$dist/$host/awskeep-full" completion fish >"$dist/share/completions/awskeep.fish"

# An SBOM per binary, from the module list the go command embedded in it (go version -m):
# exactly what was linked, whatever the build's platform. No serial number or timestamp,
# which would differ between two builds of the same commit.
#
# The linux C front has no such list: cyclonedx-gomod cannot read it. Its SBOM is written
# here and says what it links: nothing but the C library and the compiler's runtime
# library, statically, from the Debian packages that hold the libc.a and libgcc.a its
# compiler links (named with their versions, as dpkg knows them).
deb_component() { # ref file description license: the component of the Debian package holding file
	local ref=$1 file pkg version arch
	file=$(realpath "$2")
	pkg=$(dpkg-query -S "$file" | head -1 | cut -d: -f1)
	[[ -n $pkg ]] || die "no Debian package holds $file"
	version=$(dpkg-query -W -f='${Version}' "$pkg") arch=$(dpkg-query -W -f='${Architecture}' "$pkg")
	cat <<EOF
    {
      "bom-ref": "$ref",
      "type": "library",
      "name": "$ref",
      "version": "$version",
      "description": "$3, linked statically: $(basename "$file") of the Debian package $pkg $version",
      "scope": "required",
      "licenses": [{ "expression": "$4" }],
      "purl": "pkg:deb/debian/$pkg@${version//+/%2B}?arch=$arch"
    }
EOF
}
cfront_sbom() { # arch out
	local arch=$1 cc=gcc bin="$dist/linux_$1/awskeep"
	[[ $arch == arm64 ]] && cc=aarch64-linux-gnu-gcc
	local glibc libgcc
	glibc=$(deb_component glibc "$($cc -print-file-name=libc.a)" "the GNU C Library" "LGPL-2.1-or-later")
	libgcc=$(deb_component libgcc "$($cc -print-file-name=libgcc.a)" "GCC's runtime library" "GPL-3.0-or-later WITH GCC-exception-3.1")
	cat >"$2" <<EOF
{
  "\$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
  "bomFormat": "CycloneDX",
  "specVersion": "1.6",
  "version": 1,
  "metadata": {
    "component": {
      "bom-ref": "awskeep",
      "type": "application",
      "name": "awskeep",
      "version": "v$VERSION",
      "description": "the awskeep front for linux/$arch: cmd/cfront/front.c (C11) of commit $commit, by $($cc --version | head -1), static",
      "hashes": [{ "alg": "SHA-256", "content": "$(sha256sum "$bin" | cut -d' ' -f1)" }]
    }
  },
  "components": [
$glibc,
$libgcc
  ],
  "dependencies": [
    { "ref": "awskeep", "dependsOn": ["glibc", "libgcc"] },
    { "ref": "glibc", "dependsOn": [] },
    { "ref": "libgcc", "dependsOn": [] }
  ]
}
EOF
}
for bin in "$dist"/*_*/*; do
	platform=$(basename "$(dirname "$bin")")
	mkdir -p "$dist/sbom/$platform"
	if [[ $platform == linux_* && $(basename "$bin") == awskeep ]]; then
		cfront_sbom "${platform#linux_}" "$dist/sbom/$platform/awskeep.cdx.json"
		continue
	fi
	cyclonedx-gomod bin -json -noserial -notimestamp -version "v$VERSION" \
		-output "$dist/sbom/$platform/$(basename "$bin").cdx.json" "$bin" 2>/dev/null ||
		die "cyclonedx-gomod bin $bin failed"
done

# Release notes of a kind: what was built and from what.
cat >"$dist/BUILDINFO" <<EOF
version $VERSION
commit $commit
date $date
source_date_epoch $epoch
go $(go env GOVERSION)
cc $(gcc -dumpfullversion)
cross_cc $(aarch64-linux-gnu-gcc -dumpfullversion)
libc6-dev $(dpkg-query -W -f='${Version}' "libc6-dev:$(dpkg --print-architecture)")
libc6-dev-arm64-cross $(dpkg-query -W -f='${Version}' libc6-dev-arm64-cross)
EOF

"$root/scripts/package.sh" "$dist"
