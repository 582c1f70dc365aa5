#!/usr/bin/env bash
# make release-test: the release is reproducible and every binary in it runs.
#
#   1. make release twice, into dist/ (or $1) and a temporary directory, and compare the
#      two SHA256SUMS: every binary, SBOM, man page and package must be byte-identical;
#   2. every binary for this machine's platform runs: the host's --version says the
#      release's version and commit (the front's, C on linux and static, word for word
#      what awskeep-full's says), `awskeep plugins list` (the plugins sit next to
#      awskeep in dist/linux_<arch>/) shows every plugin's Info reporting the release
#      version, and every other program (awskeep-keyring, the simulator, each plugin run
#      by hand) answers --version with its own name and the release's version and commit;
#   3. the linux/arm64 binaries run the same way under qemu-user (Debian's qemu-user,
#      /usr/aarch64-linux-gnu from the cross toolchain for the pkcs11 plugin's glibc; the
#      static C front runs without it). Where binfmt_misc is not mounted (containers), the
#      arm64 front cannot exec the full program: unless it answers --version itself, its
#      check stops at the exec, which it must reach; awskeep-full --version and the
#      plugins are run directly;
#   4. the darwin binaries, which cannot run here, are checked with file(1): Mach-O of the
#      right CPU.
#
# Run on linux/amd64. Every failure stops it with a message.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PWD/.tools/bin:$PATH"

dist=$(realpath -m "${1:-dist}")
die() { echo "release-test: FAIL: $*" >&2; exit 1; }
ok() { echo "release-test: ok: $*"; }
[[ $(go env GOHOSTOS)/$(go env GOHOSTARCH) == linux/amd64 ]] || die "run on linux/amd64 (this is $(go env GOHOSTOS)/$(go env GOHOSTARCH))"
for tool in qemu-aarch64 file; do command -v "$tool" >/dev/null || die "$tool is missing: run make deps"; done

other=$(mktemp -d "${TMPDIR:-/tmp}/awskeep-release-test.XXXXXX")
trap 'rm -rf "$other"' EXIT

# 1. Two builds of one commit (HEAD when this starts: others may commit meanwhile), byte
# for byte.
RELEASE_COMMIT=$(git rev-parse HEAD)
export RELEASE_COMMIT
scripts/release.sh "$dist"
scripts/release.sh "$other/dist" >/dev/null
if ! diff -u "$dist/SHA256SUMS" "$other/dist/SHA256SUMS"; then
	die "two builds of the same commit differ (diff of SHA256SUMS above)"
fi
(cd "$dist" && sha256sum --quiet -c SHA256SUMS) || die "dist/SHA256SUMS does not match the files"
ok "two builds are byte-identical: $(wc -l <"$dist/SHA256SUMS") files"

version=$(awk '$1 == "version" { print $2 }' "$dist/BUILDINFO")
commit=$(awk '$1 == "commit" { print $2 }' "$dist/BUILDINFO")
want="awskeep $version (commit ${commit:0:12}, "
plugins=(pkcs11 tpm yubihsm vault tink)

# 2 and 3. Run what runs here. $1 runs a program: "" natively, or qemu-aarch64.
check_linux() { # arch runner...
	local arch=$1 dir=$dist/linux_$1 out
	shift
	for f in "$dir"/*; do
		file -b "$f" | grep -q "ELF 64-bit.*$([[ $arch == arm64 ]] && echo aarch64 || echo x86-64)" ||
			die "$f is not a linux/$arch ELF: $(file -b "$f")"
	done
	# The front is the C program, static: not Go, and no dynamic loader or library.
	file -b "$dir/awskeep" | grep -Eq "statically linked|static-pie linked" || die "linux/$arch awskeep is not statically linked: $(file -b "$dir/awskeep")"
	go version "$dir/awskeep" 2>&1 | grep -q "not a Go executable" || die "linux/$arch awskeep is a Go program, not the C front: $(go version "$dir/awskeep" 2>&1)"
	out=$("$@" "$dir/awskeep-full" --version) || die "linux/$arch awskeep-full --version failed"
	[[ $out == "$want"* ]] || die "linux/$arch awskeep-full --version says '$out', want '$want...'"
	local full=$out front=("$@")
	# Static: under qemu it needs no -L (no sysroot).
	[[ $# -gt 0 ]] && front=("$1")
	if out=$("${front[@]}" "$dir/awskeep" --version 2>&1); then
		[[ $out == "$full" ]] || die "linux/$arch awskeep --version says '$out', want what awskeep-full says, '$full'"
	elif [[ $# -gt 0 && ${out,,} == *"awskeep-full: exec format error; reinstall awskeep" ]]; then
		echo "release-test: linux/$arch awskeep (the front) ran up to its exec of awskeep-full, which needs binfmt_misc under qemu: $out"
	else
		die "linux/$arch awskeep --version failed: $out"
	fi
	# Every other program answers --version with its own name and the same build.
	for name in awskeep-keyring awskeep-yubihsm-sim "${plugins[@]/#/awskeep-plugin-}"; do
		out=$("$@" "$dir/$name" --version 2>&1) || die "linux/$arch $name --version failed: $out"
		[[ $out == "$name $version (commit ${commit:0:12}, "* ]] ||
			die "linux/$arch $name --version says '$out', want '$name $version (commit ${commit:0:12}, ...'"
	done
	ok "linux/$arch binaries run${*:+ under $*}; $("$@" "$dir/awskeep-full" --version)"
}
check_linux amd64
check_linux arm64 qemu-aarch64 -L /usr/aarch64-linux-gnu

# Each plugin's Info, through the host next to it (this machine's platform only: the host
# starts plugins as subprocesses, which qemu-user cannot follow without binfmt_misc).
list=$(XDG_CONFIG_HOME=$other/config "$dist/linux_amd64/awskeep" plugins list --plugin-dir "$dist/linux_amd64") ||
	die "awskeep plugins list failed"
echo "$list"
for p in "${plugins[@]}"; do
	line=$(awk -v n="$p" '$1 == n' <<<"$list")
	[[ $(awk '{ print $2 }' <<<"$line") == "$version" && $line == *"(commit ${commit:0:12},"* ]] ||
		die "plugin $p's Info does not report $version (commit ${commit:0:12}): '$line'"
done
ok "plugins list: all ${#plugins[@]} plugins report $version, commit ${commit:0:12}"

# 4. darwin: the right kind of file.
for arch in amd64 arm64; do
	cpu=$([[ $arch == arm64 ]] && echo arm64 || echo x86_64)
	for f in "$dist/darwin_$arch"/*; do
		file -b "$f" | grep -q "Mach-O 64-bit $cpu executable" || die "$f is not a darwin/$arch Mach-O: $(file -b "$f")"
	done
done
ok "darwin binaries are Mach-O executables for x86_64 and arm64 (file)"
echo "release-test: PASS"
