package e2e

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// proxyVars are what `awskeep proxy` prints for its clients.
var proxyVars = []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"}

// startProxy starts `awskeep proxy` with alice's key on the user's token, forwarding to
// upstream, and returns it with the environment of a client that uses it: the local pair,
// the endpoint, a region, and empty AWS config files so nothing else is found.
func (u *user) startProxy(t *testing.T, upstream string, args ...string) (*server, []string) {
	t.Helper()
	argv := append([]string{"--key", u.keyURI("prod"), "--access-key-id", world.alice.AccessKeyID, "--upstream", upstream}, args...)
	p := u.startPrinting(t, nil, nil, "proxy", proxyVars, argv...)
	if !strings.HasPrefix(p.vars["AWS_ENDPOINT_URL"], "http://127.0.0.1:") {
		t.Fatalf("AWS_ENDPOINT_URL = %q, want a loopback URL", p.vars["AWS_ENDPOINT_URL"])
	}
	empty := filepath.Join(u.home, "empty-aws-file")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"AWS_DEFAULT_REGION=us-east-1", "AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + empty, "AWS_SHARED_CREDENTIALS_FILE=" + empty}
	for _, name := range proxyVars {
		env = append(env, name+"="+p.vars[name])
	}
	return p, env
}

// randomFile writes n random bytes to a file in dir and returns its path and hex SHA-256.
func randomFile(t *testing.T, dir string, n int) (string, string) {
	t.Helper()
	data := make([]byte, n)
	rand.Read(data)
	path := filepath.Join(dir, "upload.bin")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return path, hex.EncodeToString(sum[:])
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// TestProxyServesAWSCLIAndBoto3: AWS CLI v1 and boto3, given only the local pair and the
// proxy's endpoint, call STS, IAM and S3 (a 20 MB upload included); what reaches AWS is
// signed by the device as alice, and no STS credentials are ever asked for.
func TestProxyServesAWSCLIAndBoto3(t *testing.T) {
	u := newUser(t)
	u.importKey("prod", world.alice.SecretAccessKey)
	rec := startCallRecorder(t, world.server.URL)
	// At debug level, so that the check of its log at the end has a log to check.
	p, env := u.startProxy(t, rec.URL, "--debug")
	u.secrets = append(u.secrets, p.vars["AWS_SECRET_ACCESS_KEY"])
	big, bigSum := randomFile(t, u.home, 20<<20)
	// botocore adds trailing CRC32 checksums (aws-chunked) only over HTTPS; the proxy
	// is plain HTTP on loopback, so uploads carry a SHA-256 of the body.

	t.Run("aws cli v1", func(t *testing.T) {
		cli := awsCLIs(t)["v1"]
		r := u.exec(cli, "", env, "sts", "get-caller-identity", "--query", "Arn", "--output", "text")
		mustSucceed(t, r, "aws sts get-caller-identity")
		if strings.TrimSpace(r.stdout) != world.alice.ARN {
			t.Fatalf("through the proxy the caller is %q, want alice %s", r.stdout, world.alice.ARN)
		}
		r = u.exec(cli, "", env, "iam", "list-users", "--query", "Users[].UserName", "--output", "text")
		mustSucceed(t, r, "aws iam list-users")
		if !strings.Contains(r.stdout, "alice") {
			t.Fatalf("aws iam list-users = %q, want alice", r.stdout)
		}
		mustSucceed(t, u.exec(cli, "", env, "s3api", "create-bucket", "--bucket", "proxy-cli"), "aws s3api create-bucket")
		mustSucceed(t, u.exec(cli, "", env, "s3api", "put-object", "--bucket", "proxy-cli", "--key", "big.bin", "--body", big), "aws s3api put-object (20 MB)")
		got := filepath.Join(t.TempDir(), "got.bin")
		mustSucceed(t, u.exec(cli, "", env, "s3api", "get-object", "--bucket", "proxy-cli", "--key", "big.bin", got), "aws s3api get-object")
		if sum := fileSHA256(t, got); sum != bigSum {
			t.Fatalf("the 20 MB object came back as %s, want %s", sum, bigSum)
		}
		r = u.exec(cli, "", env, "s3api", "list-objects-v2", "--bucket", "proxy-cli", "--query", "Contents[].Key", "--output", "text")
		mustSucceed(t, r, "aws s3api list-objects-v2")
		if strings.TrimSpace(r.stdout) != "big.bin" {
			t.Fatalf("aws s3api list-objects-v2 = %q", r.stdout)
		}
	})

	t.Run("boto3", func(t *testing.T) {
		script := `
import boto3, hashlib, sys
s = boto3.Session()
print(s.client("sts").get_caller_identity()["Arn"])
print(",".join(x["UserName"] for x in s.client("iam").list_users()["Users"]))
s3 = s.client("s3")
s3.create_bucket(Bucket="proxy-boto3")
with open(sys.argv[1], "rb") as f:
    s3.put_object(Bucket="proxy-boto3", Key="big.bin", Body=f)
print(hashlib.sha256(s3.get_object(Bucket="proxy-boto3", Key="big.bin")["Body"].read()).hexdigest())
s3.put_object(Bucket="proxy-boto3", Key="small.txt", Body=b"small")
print(s3.get_object(Bucket="proxy-boto3", Key="small.txt")["Body"].read().decode())
`
		r := u.exec(pyenvPython(t), "", env, "-c", script, big)
		mustSucceed(t, r, "boto3 through the proxy")
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if len(lines) != 4 || lines[0] != world.alice.ARN || !strings.Contains(lines[1], "alice") || lines[2] != bigSum || lines[3] != "small" {
			t.Fatalf("boto3 printed %q, want alice's ARN, the users, the 20 MB object's SHA-256 %s and small", lines, bigSum)
		}
	})

	t.Run("wrong local secret", func(t *testing.T) {
		before := len(rec.recorded())
		wrong := append(append([]string(nil), env...), "AWS_SECRET_ACCESS_KEY=not-the-secret-the-proxy-printed-000000")
		r := u.exec(awsCLIs(t)["v1"], "", wrong, "sts", "get-caller-identity")
		if r.code == 0 || !strings.Contains(r.stderr, "SignatureDoesNotMatch") {
			t.Fatalf("a client with the wrong local secret: exit %d, stderr %q; want SignatureDoesNotMatch", r.code, r.stderr)
		}
		// boto3 shows the status and the code of the proxy's AWS error body.
		script := `
import boto3, botocore.exceptions
try:
    boto3.client("sts").get_caller_identity()
    print("accepted")
except botocore.exceptions.ClientError as e:
    print(e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"])
`
		r = u.exec(pyenvPython(t), "", wrong, "-c", script)
		mustSucceed(t, r, "boto3 with the wrong local secret")
		if got := strings.TrimSpace(r.stdout); got != "403 SignatureDoesNotMatch" {
			t.Fatalf("boto3 with the wrong local secret got %q, want 403 SignatureDoesNotMatch", got)
		}
		if after := len(rec.recorded()); after != before {
			t.Fatalf("the upstream received %d requests of a client with the wrong secret", after-before)
		}
	})

	for _, c := range rec.recorded() {
		if c.AccessKeyID != world.alice.AccessKeyID {
			t.Errorf("%v reached AWS signed by %q, want the device key %s", c, c.AccessKeyID, world.alice.AccessKeyID)
		}
		switch c.Action {
		case "AssumeRole", "GetSessionToken", "GetFederationToken", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity":
			t.Errorf("the proxy asked STS for credentials: %v", c)
		}
	}
	p.stop(syscall.SIGTERM)
	log := p.stderr.String()
	if !strings.Contains(log, "request forwarded") || !strings.Contains(log, "request refused or failed") {
		t.Fatalf("awskeep proxy --debug logged no forwarded and refused requests:\n%s", log)
	}
	u.checkNoSecrets(log, u.secrets, "awskeep proxy's stderr")
	if strings.Contains(log, "Signature=") || strings.Contains(log, "X-Amz-Security-Token") {
		t.Errorf("awskeep proxy's log shows a signature or a token:\n%s", log)
	}
}
