#!/usr/bin/env bash
# make package: the deb and rpm packages of a release, from the binaries make release put
# in dist/ (or $1), with nfpm (pinned in scripts/deps.sh) and the configs in packaging/;
# then dist/SHA256SUMS over everything in dist/. make release ends by running this.
#
#   awskeep                   the host: awskeep, awskeep-full and awskeep-keyring in
#                             /usr/libexec/awskeep (awskeep and awskeep-keyring linked from
#                             /usr/bin), man pages, bash/zsh/fish completions, the docs,
#                             /etc/default/awskeep (the opt-in switch of the post-install pin)
#   awskeep-plugin-pkcs11, -tpm, -yubihsm, -vault, -tink
#                             one plugin each in /usr/lib/awskeep/plugins, root:root 0755
#   awskeep-yubihsm-sim       the YubiHSM 2 simulator, /usr/bin/awskeep-yubihsm-sim
#
# Packages are reproducible like the binaries: nfpm dates every file and the package itself
# with SOURCE_DATE_EPOCH (the commit time, from dist/BUILDINFO), and everything packed here
# is compressed with gzip -n (no name or time in the header).
#
# MAINTAINER, HOMEPAGE and LICENSE override the package metadata.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PWD/.tools/bin:$PATH"

dist=$(realpath -m "${1:-dist}")
die() { echo "package: $*" >&2; exit 1; }
command -v nfpm >/dev/null || die "nfpm is missing: run make deps"
[[ -f $dist/BUILDINFO ]] || die "$dist/BUILDINFO is missing: run make release first"
info() { awk -v k="$1" '$1 == k { print $2 }' "$dist/BUILDINFO"; }
VERSION=$(info version)
commit=$(info commit)
export SOURCE_DATE_EPOCH VERSION
SOURCE_DATE_EPOCH=$(info source_date_epoch)
export MAINTAINER=${MAINTAINER:-"awskeep maintainers <awskeep@users.noreply.github.com>"}
export HOMEPAGE=${HOMEPAGE:-https://github.com/awskeep/awskeep}
export LICENSE=${LICENSE:-LicenseRef-awskeep-unlicensed}

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/awskeep-package.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
export STAGE
gz() { gzip -9n <"$1" >"$2"; }

# Man pages: make man's, plus the two programs outside the cobra CLI.
mkdir -p "$STAGE/man1" "$STAGE/man1-sim" "$STAGE/completions" "$STAGE/doc"
for m in "$dist"/share/man/man1/*.1; do gz "$m" "$STAGE/man1/$(basename "$m").gz"; done
gz packaging/man/awskeep-keyring.1 "$STAGE/man1/awskeep-keyring.1.gz"
gz packaging/man/awskeep-yubihsm-sim.1 "$STAGE/man1-sim/awskeep-yubihsm-sim.1.gz"
cp "$dist"/share/completions/* "$STAGE/completions/"
# The docs of the released commit, not of the work tree.
git archive --format=tar "$commit" README.md docs | tar -x -C "$STAGE/doc" --strip-components=0
mv "$STAGE"/doc/docs/* "$STAGE/doc/" && rmdir "$STAGE/doc/docs"
for f in "$STAGE"/doc/*.md; do
	# Long docs compressed, as Debian policy 12.3 asks of files over 4 kB.
	if (($(stat -c %s "$f") > 4096)); then gz "$f" "$f.gz" && rm "$f"; fi
done
# A Debian changelog (policy 12.7): one entry for the release, under the version nfpm gives
# the debs (a semantic pre-release's "-" becomes "~", which sorts before the release).
{
	echo "awskeep (${VERSION/-/\~}) unstable; urgency=medium"
	echo
	echo "  * Release $VERSION, commit ${commit:0:12}."
	echo
	echo " -- $MAINTAINER  $(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n >"$STAGE/changelog.gz"

rm -f "$dist"/*.deb "$dist"/*.rpm
for ARCH in amd64 arm64; do
	export ARCH BIN=$dist/linux_$ARCH
	[[ -d $BIN ]] || die "$BIN is missing: run make release first"
	# The pkcs11 plugin links glibc: depend on the newest symbol version it needs.
	glibc=$(readelf -V "$BIN/awskeep-plugin-pkcs11" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)
	[[ -n $glibc ]] || die "no glibc symbol versions in $BIN/awskeep-plugin-pkcs11"
	export LIBC_DEPENDS="libc6 (>= $glibc)"
	for config in packaging/*.yaml; do
		for packager in deb rpm; do
			nfpm package --config "$config" --packager "$packager" --target "$dist/" >"$STAGE/nfpm.log" 2>&1 || { cat "$STAGE/nfpm.log" >&2; false; } ||
				die "nfpm $packager $config ($ARCH) failed"
		done
	done
done
ls "$dist"/*.deb "$dist"/*.rpm | sed 's|.*/|package: |'

# Checksums of everything in the release, in a stable order.
rm -f "$dist/SHA256SUMS"
(cd "$dist" && find . -type f | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum) >"$STAGE/SHA256SUMS"
mv "$STAGE/SHA256SUMS" "$dist/SHA256SUMS"
echo "package: $(wc -l <"$dist/SHA256SUMS") files in $dist/SHA256SUMS"
