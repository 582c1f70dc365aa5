#!/usr/bin/env bash
# Installs what awskeep's build, tests and demo need and are missing: Debian packages (as
# root, with apt-get) and pinned Go tools (into .tools/bin). Prints what it does; fails loudly
# with the command to run when it cannot install something itself.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: protoc for `make generate`, SoftHSM2 and OpenSC (pkcs11-tool) for the
# PKCS#11 backend, swtpm and tpm2-tools for the TPM backend, libssl-dev for the go-tpm-tools
# simulator (cgo), awscli for AWS CLI v2, hyperfine for `make bench`; for the SAML source's
# tests: MIT Kerberos (a throwaway KDC), curl, and the keyrings (secret-service through
# dbus and gnome-keyring, pass with gnupg, keyctl); for make release and its tests: the
# arm64 cross compiler of the cgo plugin, qemu-user to run arm64 binaries, file, lintian to
# check the debs, rpm to read the rpms. The awskeep front on linux is C linked statically
# (cmd/cfront/front.c): gcc and glibc's libc.a, libc6-dev (gcc only recommends it), and
# for arm64 libc6-dev-arm64-cross.
packages=(gcc libc6-dev protobuf-compiler softhsm2 opensc swtpm swtpm-tools tpm2-tools libssl-dev awscli hyperfine krb5-kdc krb5-admin-server krb5-user curl dbus-daemon dbus-bin gnome-keyring pass gnupg keyutils
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user file lintian rpm)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
	if [[ $(id -u) -ne 0 ]]; then
		echo "deps: missing Debian packages: ${missing[*]}" >&2
		echo "deps: run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Pinned Go tools.
mkdir -p .tools/bin
install_tool() { # name module@version
	local bin=".tools/bin/$1" stamp=".tools/bin/.$1.version"
	if [[ -x $bin && -f $stamp && $(cat "$stamp") == "$2" ]]; then return; fi
	echo "deps: go install $2"
	GOBIN="$PWD/.tools/bin" GOWORK=off go install "$2"
	echo "$2" >"$stamp"
}
install_tool protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
install_tool protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.5.1
install_tool staticcheck honnef.co/go/tools/cmd/staticcheck@v0.8.2
install_tool minio github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c
# make release: packages and SBOMs.
install_tool nfpm github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2
install_tool cyclonedx-gomod github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@v1.10.0

# moto (the SigV4-verifying local AWS) and AWS CLI v1 come from Python.
. scripts/python-tools.sh
if ! moto_server_path >/dev/null; then
	echo "deps: moto_server not found; install it with: pip install 'moto[server]==5.2.1'" >&2
	exit 1
fi
