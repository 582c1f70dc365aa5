#!/usr/bin/env bash
# make package-test: install the release's debs (dist/, or $1) into a throwaway root and
# use the installed awskeep as an operator would, against a SoftHSM2 token and moto:
#
#   1. lintian reports no errors on any deb (warnings accepted: docs/install.md says which
#      and why; lintian's own list is printed);
#   2. dpkg --instdir/--admindir installs all of them with their maintainer scripts
#      (--force-script-chrootless: the scripts run on this system with $DPKG_ROOT set):
#      first as packaged, when the post-install script must pin nothing, then (after a
#      purge) with the pin switched on for a throwaway user;
#   3. the installed awskeep (the C front, static) prints the release's version, as
#      awskeep-full does, word for word; every binary and plugin is
#      root-owned and 0755; `plugins list` finds all five packaged plugins, each reporting
#      the release version; the post-install script pinned them for the user;
#   4. import into SoftHSM2 and one credential-process against moto (AssumeRole), whose
#      credentials then work for sts get-caller-identity with the AWS CLI;
#   5. dpkg --purge removes everything: nothing is left in the root but the empty
#      directories this script made, and dpkg's database lists no awskeep package.
#
# Every failure stops the test with a message; nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/python-tools.sh
export PATH="/usr/local/go/bin:$PWD/.tools/bin:$PATH"

dist=$(realpath -m "${1:-dist}")
die() { echo "package-test: FAIL: $*" >&2; exit 1; }
ok() { echo "package-test: ok: $*"; }
for tool in dpkg lintian rpm softhsm2-util runuser useradd curl file; do
	command -v "$tool" >/dev/null || die "$tool is missing: run make deps"
done
[[ $(id -u) == 0 ]] || die "run as root: it creates a throwaway user to test the post-install pin"
[[ -x $(moto_server_path) ]] || die "moto_server is missing: pip install 'moto[server]==5.2.1'"
aws_v1=$(pyenv_bin aws || command -v aws) || die "AWS CLI v1 is missing: pip install awscli"
arch=$(dpkg --print-architecture)
version=$(awk '$1 == "version" { print $2 }' "$dist/BUILDINFO" 2>/dev/null) || true
[[ -n $version ]] || die "$dist/BUILDINFO is missing: run make release first"
mapfile -t debs < <(ls "$dist"/*_"$arch".deb 2>/dev/null)
((${#debs[@]} == 7)) || die "want 7 debs for $arch in $dist, found ${#debs[@]}: run make release"

# 1. lintian: errors fail, warnings are printed.
lintian_out=$(lintian --no-tag-display-limit "$dist"/*.deb 2>&1) || true
echo "$lintian_out" | sed 's/^/lintian: /'
if grep -q '^E: ' <<<"$lintian_out"; then die "lintian reports errors (above)"; fi
ok "lintian: no errors on $(ls "$dist"/*.deb | wc -l) debs"

# The rpms hold the same plugins, root-owned and 0755, and the same post-install script.
for p in pkcs11 tpm yubihsm vault tink; do
	rpm_file=$(ls "$dist"/awskeep-plugin-"$p"-*.x86_64.rpm) || die "no x86_64 rpm of the $p plugin"
	line=$(rpm -qlvp "$rpm_file" 2>/dev/null | grep " /usr/lib/awskeep/plugins/awskeep-plugin-$p$") || die "$rpm_file lacks its plugin"
	[[ $line == "-rwxr-xr-x "*" root "*" root "* ]] || die "$rpm_file: $line, want -rwxr-xr-x root root"
	rpm -qp --scripts "$rpm_file" 2>/dev/null | grep -q AWSKEEP_PIN_USERS || die "$rpm_file has no post-install pin script"
done
ok "rpms: plugins root:root 0755, post-install script present"

# The throwaway world: a root for dpkg, its database, a user, a token, moto.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/awskeep-package-test.XXXXXX")
chmod 755 "$tmp" # the test user reads the installed programs
root=$tmp/root admin=$tmp/dpkg user=awskeep-pt$$ home=$tmp/home moto_pid=
cleanup() {
	if [[ -n $moto_pid ]]; then kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; fi
	if getent passwd "$user" >/dev/null; then userdel "$user" || echo "package-test: userdel $user failed" >&2; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$root/etc/default" "$admin/updates" "$admin/info" "$home"
# The one dependency outside awskeep, the pkcs11 plugin's libc6, is this system's: the
# installed plugin runs with it. Its status entry tells the throwaway database so.
dpkg-query --status libc6 >"$admin/status" || die "dpkg-query --status libc6 failed"
useradd --home-dir "$home" --no-create-home --shell /usr/sbin/nologin --no-user-group --gid nogroup "$user"
chown "$user" "$home"
chmod 700 "$home"
dpkg_t() { dpkg --force-not-root --force-script-chrootless --instdir="$root" --admindir="$admin" --log=/dev/null "$@"; }

# 2a. Without the switch (the package's own /etc/default/awskeep: nobody), the post-install
# script pins nothing.
dpkg_t -i "${debs[@]}" >"$tmp/install0.log" 2>&1 || { cat "$tmp/install0.log"; die "dpkg -i (no pin switch) failed"; }
grep -qx 'AWSKEEP_PIN_USERS=""' "$root/etc/default/awskeep" || die "the packaged /etc/default/awskeep does not leave the pin off"
[[ ! -e $home/.config ]] || die "the post-install script pinned although nobody opted in: $(ls -R "$home/.config")"
mapfile -t names < <(for d in "${debs[@]}"; do dpkg-deb -f "$d" Package; done)
dpkg_t --purge "${names[@]}" >"$tmp/purge0.log" 2>&1 || { cat "$tmp/purge0.log"; die "dpkg --purge failed"; }
[[ ! -e $root/etc/default/awskeep ]] || die "purge left /etc/default/awskeep"
ok "without the switch the post-install script pins nothing"

# 2b. Install, with the post-install pin switched on for the test user. The switch file is
# the package's conffile; writing it first keeps the operator's choice (dpkg asks nothing
# for a file it has not installed yet: --force-confold keeps it).
mkdir -p "$root/etc/default"
printf 'AWSKEEP_PIN_USERS="%s"\n' "$user" >"$root/etc/default/awskeep"
dpkg_t --force-confold -i "${debs[@]}" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; die "dpkg -i failed"; }
grep -i 'pin' "$tmp/install.log" || true
mapfile -t installed < <(dpkg-query --admindir="$admin" -W -f='${Package} ${Status}\n' | grep '^awskeep.* installed$' | cut -d' ' -f1)
((${#installed[@]} == 7)) || die "dpkg lists ${#installed[@]} installed packages, want 7: ${installed[*]}"
ok "installed ${installed[*]}"

# 3. The installed programs.
awskeep=$root/usr/bin/awskeep
[[ -L $awskeep ]] || die "$awskeep is not the symlink the package installs"
got=$("$awskeep" --version) || die "awskeep --version failed"
[[ $got == "awskeep $version ("* ]] || die "awskeep --version says '$got', want version $version"
[[ $("$awskeep" version) == "$got" ]] || die "awskeep version and --version differ"
full=$("$root/usr/libexec/awskeep/awskeep-full" --version) || die "awskeep-full --version failed"
[[ $got == "$full" ]] || die "awskeep --version says '$got', awskeep-full --version '$full': want the same line"
file -bL "$awskeep" | grep -Eq "statically linked|static-pie linked" || die "the installed awskeep (the C front) is not static: $(file -bL "$awskeep")"
ok "$got"
for f in "$root"/usr/libexec/awskeep/* "$root"/usr/lib/awskeep/plugins/* "$root/usr/bin/awskeep-yubihsm-sim"; do
	[[ $(stat -c '%U:%G %a' "$f") == "root:root 755" ]] || die "$f is $(stat -c '%U:%G %a' "$f"), want root:root 755"
done
[[ $(stat -c '%U:%G %a' "$root/usr/lib/awskeep/plugins") == "root:root 755" ]] || die "the plugin directory is not root:root 755"
"$root/usr/bin/awskeep-yubihsm-sim" -port -1 2>/dev/null && die "awskeep-yubihsm-sim accepted -port -1"
ok "programs and plugins are root:root 0755"

plugins="--plugin-dir $root/usr/lib/awskeep/plugins"
# shellcheck disable=SC2086 # $plugins is two words
list=$("$awskeep" plugins list $plugins) || die "awskeep plugins list failed"
echo "$list"
for p in pkcs11 tpm yubihsm vault tink; do
	line=$(awk -v n="$p" '$1 == n' <<<"$list")
	[[ -n $line ]] || die "plugins list does not list $p"
	[[ $line == *"$root/usr/lib/awskeep/plugins/awskeep-plugin-$p"* ]] || die "plugins list: $p is not the packaged one: $line"
	[[ $(awk '{ print $2 }' <<<"$line") == "$version" ]] || die "plugins list: $p does not report version $version: $line"
done
ok "plugins list finds the 5 packaged plugins at version $version"

pinfile=$home/.config/awskeep/plugins.sha256
[[ -f $pinfile ]] || die "the post-install script did not pin for $user ($pinfile missing; install log: $(cat "$tmp/install.log"))"
[[ $(stat -c %U "$pinfile") == "$user" ]] || die "$pinfile is not owned by $user"
for p in pkcs11 tpm yubihsm vault tink; do
	want=$(sha256sum "$root/usr/lib/awskeep/plugins/awskeep-plugin-$p" | cut -d' ' -f1)
	grep -qx "$want  $p" "$pinfile" || die "$pinfile lacks $p's sha256 $want"
done
ok "the post-install script pinned the 5 plugins for $user"

# 4. One credential-process on a SoftHSM2 token and moto, by the installed awskeep.
mkdir -p "$tmp/tokens"
chmod 700 "$tmp/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$tmp/tokens" >"$tmp/softhsm2.conf"
export SOFTHSM2_CONF=$tmp/softhsm2.conf
(umask 077 && head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$tmp/pin")
softhsm2-util --init-token --free --label pkgtest --so-pin "so-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
	--pin "$(cat "$tmp/pin")" >/dev/null || die "softhsm2-util --init-token failed"
key="pkcs11:token=pkgtest;object=pkgtest?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:$tmp/pin"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
endpoint=http://127.0.0.1:$port
"$(moto_server_path)" -H 127.0.0.1 -p "$port" >"$tmp/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 100); do curl -fs "$endpoint/moto-api/" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs "$endpoint/moto-api/" >/dev/null || die "moto_server did not start: $(cat "$tmp/moto.log")"
boot() { AWS_ACCESS_KEY_ID=AKIAMOTOBOOTSTRAP000 AWS_SECRET_ACCESS_KEY=bootstrap AWS_DEFAULT_REGION=us-east-1 \
	AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null "$aws_v1" --endpoint-url "$endpoint" "$@"; }
allow='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
user_arn=$(boot iam create-user --user-name pkgtest --query User.Arn --output text)
boot iam put-user-policy --user-name pkgtest --policy-name all --policy-document "$allow"
role_arn=$(boot iam create-role --role-name pkgtest --query Role.Arn --output text --assume-role-policy-document \
	"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"$user_arn\"},\"Action\":\"sts:AssumeRole\"}]}")
boot iam put-role-policy --role-name pkgtest --policy-name all --policy-document "$allow"
read -r access_key_id secret < <(boot iam create-access-key --user-name pkgtest \
	--query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
curl -fs -X POST -H 'Content-Type: text/plain' --data 0 "$endpoint/moto-api/reset-auth" >/dev/null

export XDG_CACHE_HOME=$tmp/cache XDG_CONFIG_HOME=$tmp/config AWSKEEP_PLUGIN_DIR=$root/usr/lib/awskeep/plugins
export AWS_CONFIG_FILE=$tmp/aws-config AWS_SHARED_CREDENTIALS_FILE=$tmp/aws-credentials
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_STS
printf '%s\n' "$secret" | "$awskeep" import --key "$key" >"$tmp/import.out" 2>&1 || die "awskeep import: $(cat "$tmp/import.out")"
cat >"$AWS_CONFIG_FILE" <<CONFIG
[profile pkgtest]
region = us-east-1
endpoint_url = $endpoint
credential_process = $awskeep credential-process --profile pkgtest
awskeep_key = $key
awskeep_access_key_id = $access_key_id
awskeep_role_arn = $role_arn
role_session_name = pkgtest
CONFIG
creds=$("$awskeep" credential-process --profile pkgtest 2>"$tmp/cp.err") || die "credential-process: $(cat "$tmp/cp.err")"
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["Version"]==1 and d["AccessKeyId"] and d["SessionToken"], d.keys()' "$creds" ||
	die "credential-process printed no credentials"
who=$("$aws_v1" --profile pkgtest sts get-caller-identity --query Arn --output text) || die "aws sts get-caller-identity through credential_process failed"
[[ $who == *":assumed-role/pkgtest/pkgtest" ]] || die "get-caller-identity says $who, want the assumed role pkgtest"
ok "credential-process: AssumeRole on moto, aws sts get-caller-identity says $who"
# The secret never lands in a file this test did not ask for.
if grep -rqF -- "$secret" "$tmp" "$root" 2>/dev/null; then die "the secret access key is in a file: $(grep -rlF -- "$secret" "$tmp" "$root")"; fi
unset secret
kill "$moto_pid" && wait "$moto_pid" 2>/dev/null || true
moto_pid=

# 5. Uninstall: nothing left behind but what this script made.
dpkg_t --purge "${names[@]}" >"$tmp/purge.log" 2>&1 || { cat "$tmp/purge.log"; die "dpkg --purge failed"; }
left=$(cd "$root" && find . -mindepth 1 ! -path ./etc ! -path ./etc/default)
[[ -z $left ]] || die "left behind in the root after purge: $left"
[[ $(dpkg-query --admindir="$admin" -W -f='${Package}\n' 2>/dev/null) == libc6 ]] || die "dpkg still lists awskeep packages after purge"
ok "dpkg --purge left nothing behind"
echo "package-test: PASS"
