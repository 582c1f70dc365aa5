#!/usr/bin/env bash
# make demo: the main job of awskeep end to end, on local stand-ins for the real things.
#
#   1. a SoftHSM2 token stands in for the HSM,
#   2. moto_server stands in for AWS (it checks every SigV4 signature),
#   3. an IAM user's secret access key goes into the token with `awskeep import`,
#   4. the AWS CLI gets temporary credentials through credential_process = awskeep ...
#   5. optional, a few seconds: the same with the Tink backend, a keyset file wrapped by a
#      KMS key of moto's KMS (set DEMO_TINK=0 to skip it). Vault transit is not in the demo:
#      there is no Vault to run without building one (see the last step).
#
# Everything lives in ./demo (git-ignored); moto is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/python-tools.sh

root=$PWD
demo=$root/demo
bin=$root/bin
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

rm -rf "$demo"
mkdir -p "$demo"
chmod 700 "$demo"

moto_pid=
cleanup() {
	if [[ -n $moto_pid ]]; then kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT

step "A SoftHSM2 token in $demo/tokens stands in for the HSM"
mkdir -p "$demo/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$demo/tokens" >"$demo/softhsm2.conf"
export SOFTHSM2_CONF=$demo/softhsm2.conf
# The user PIN goes into a 0600 file; awskeep reads it through the key URI's pin-source.
(umask 077 && head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$demo/pin")
# softhsm2-util takes PINs only as arguments or at an interactive prompt; this is the one
# place the (throw-away) demo PIN is on a command line, and it is not echoed.
echo '$ softhsm2-util --init-token --free --label awskeep-demo --so-pin *** --pin ***'
softhsm2-util --init-token --free --label awskeep-demo --so-pin "so-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')" --pin "$(cat "$demo/pin")"
key="pkcs11:token=awskeep-demo;object=demo?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:$demo/pin"

step "moto_server on a free loopback port stands in for AWS"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
endpoint=http://127.0.0.1:$port
"$(moto_server_path)" -H 127.0.0.1 -p "$port" >"$demo/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 100); do curl -fs "$endpoint/moto-api/" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs "$endpoint/moto-api/" >/dev/null || { echo "moto_server did not start; see $demo/moto.log" >&2; exit 1; }
echo "moto_server (pid $moto_pid) listens on $endpoint"

step "Create an IAM user with an access key, a role it may assume, and an S3 object"
aws_v1=$(pyenv_bin aws || command -v aws)
# moto accepts any credentials until authentication is switched on below.
boot() { AWS_ACCESS_KEY_ID=AKIAMOTOBOOTSTRAP000 AWS_SECRET_ACCESS_KEY=bootstrap AWS_DEFAULT_REGION=us-east-1 \
	AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null "$aws_v1" --endpoint-url "$endpoint" "$@"; }
user_arn=$(boot iam create-user --user-name demo-user --query User.Arn --output text)
boot iam put-user-policy --user-name demo-user --policy-name allow-all \
	--policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
role_arn=$(boot iam create-role --role-name demo-role --query Role.Arn --output text --assume-role-policy-document \
	"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"$user_arn\"},\"Action\":\"sts:AssumeRole\"}]}")
boot iam put-role-policy --role-name demo-role --policy-name allow-all \
	--policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
boot s3api create-bucket --bucket awskeep-demo >/dev/null
echo "hello from awskeep" >"$demo/hello.txt"
boot s3api put-object --bucket awskeep-demo --key hello.txt --body "$demo/hello.txt" >/dev/null
# The secret is read into a variable, never onto a command line or into a file.
read -r access_key_id secret < <(boot iam create-access-key --user-name demo-user \
	--query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
echo "user $user_arn, access key $access_key_id, role $role_arn"
tink=${DEMO_TINK:-1}
if [[ $tink == 1 ]]; then
	# For the optional Tink step: a second access key of the same user (its secret goes into
	# the keyset), a KMS key, and a user that may only encrypt and decrypt with KMS: the
	# plugin's own AWS identity, in a credentials profile of its own.
	read -r tink_key_id tink_secret < <(boot iam create-access-key --user-name demo-user \
		--query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
	kms_arn=$(boot kms create-key --description "awskeep demo keyset KEK" --query KeyMetadata.Arn --output text)
	boot iam create-user --user-name demo-kms >/dev/null
	boot iam put-user-policy --user-name demo-kms --policy-name kms-wrap \
		--policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*"}]}'
	(umask 077 && boot iam create-access-key --user-name demo-kms --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text |
		awk '{printf "[demo-kms]\naws_access_key_id = %s\naws_secret_access_key = %s\n", $1, $2}' >"$demo/aws-credentials")
	echo "KMS key $kms_arn; the Tink plugin's KMS identity demo-kms (kms:Encrypt, kms:Decrypt) is profile demo-kms of $demo/aws-credentials"
fi
curl -fs -X POST -H 'Content-Type: text/plain' --data 0 "$endpoint/moto-api/reset-auth" >/dev/null
echo "moto now verifies the SigV4 signature of every request"

step "Import the secret into the token (once; it never leaves the token again)"
printf '$ awskeep import --key "%s"   # secret on stdin\n' "$key"
printf '%s\n' "$secret" | "$bin/awskeep" import --key "$key"
unset secret
run "$bin/awskeep" keys describe --key "$key"

step "Point an AWS CLI profile at awskeep: every setting lives in ~/.aws/config"
export AWS_CONFIG_FILE=$demo/aws-config AWS_SHARED_CREDENTIALS_FILE=$demo/aws-credentials
export XDG_CACHE_HOME=$demo/cache AWSKEEP_PLUGIN_DIR=$bin
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_STS
cat >"$AWS_CONFIG_FILE" <<CONFIG
[profile demo]
region = us-east-1
endpoint_url = $endpoint
credential_process = $bin/awskeep credential-process --profile demo
awskeep_key = $key
awskeep_access_key_id = $access_key_id
awskeep_role_arn = $role_arn
role_session_name = demo
CONFIG
cat "$AWS_CONFIG_FILE"

step "Check the set-up (config, plugin, device, STS, clock, cache)"
run "$bin/awskeep" doctor --profile demo

step "The AWS CLI lists the bucket with credentials from the token"
run "$aws_v1" --profile demo s3api list-objects-v2 --bucket awskeep-demo --query 'Contents[].Key' --output text

step "Any program gets them in its environment (awskeep exec)"
run "$bin/awskeep" exec --profile demo -- sh -c 'echo "AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID AWS_REGION=$AWS_REGION, expires $AWS_CREDENTIAL_EXPIRATION"'

step "Who am I? (aws sts get-caller-identity through credential_process)"
run "$aws_v1" --profile demo sts get-caller-identity

if [[ $tink == 1 ]]; then
	step "Optional (DEMO_TINK=0 skips it): the Tink backend, a keyset file wrapped by moto's KMS"
	# Weaker than a device: the plugin decrypts the keyset into its memory, and whoever has
	# the file and kms:Decrypt has the secret; the file alone is useless (docs/backend-tink.md).
	# The key has no PIN, so the URI names none. The plugin reaches KMS with profile demo-kms;
	# its credentials file reaches it because $AWSKEEP_PLUGIN_ENV lists the variable.
	export AWSKEEP_PLUGIN_ENV=AWS_SHARED_CREDENTIALS_FILE
	install -d -m 0700 "$demo/keys"
	tink_key="tink:file=$demo/keys/demo.keyset.json?kek=aws-kms://$kms_arn&kms-endpoint=$endpoint&profile=demo-kms"
	printf '$ awskeep import --key "%s"   # secret on stdin\n' "$tink_key"
	printf '%s\n' "$tink_secret" | "$bin/awskeep" import --key "$tink_key"
	unset tink_secret
	run "$bin/awskeep" keys describe --key "$tink_key"
	cat >>"$AWS_CONFIG_FILE" <<CONFIG
[profile demo-tink]
region = us-east-1
endpoint_url = $endpoint
credential_process = $bin/awskeep credential-process --profile demo-tink
awskeep_key = $tink_key
awskeep_access_key_id = $tink_key_id
awskeep_role_arn = $role_arn
role_session_name = demo-tink
CONFIG
	run "$aws_v1" --profile demo-tink sts get-caller-identity
fi

step "Not in this demo: HashiCorp Vault transit (vault: keys)"
echo "There is no Vault on this machine to run against without building one from source (minutes on two cores)"
echo "or downloading a release, which make deps does not do. docs/backend-vault.md sets one up; plugin-vault/vaulttest"
echo "runs this same job against a real Vault started in process: cd plugin-vault/vaulttest && GOWORK=off go test -run TestCredentialProcessAWSCLI ."
