package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// awsCLIs returns AWS CLI v1 (botocore, from the pyenv) and v2 (Debian's awscli). Both must
// be there: the test never skips.
func awsCLIs(t *testing.T) map[string]string {
	t.Helper()
	root := os.Getenv("PYENV_ROOT")
	if root == "" {
		root = filepath.Join(os.Getenv("HOME"), ".pyenv")
	}
	v1, _ := filepath.Glob(filepath.Join(root, "versions", "*", "bin", "aws"))
	if len(v1) == 0 {
		t.Fatal("AWS CLI v1 not found in the pyenv: pip install awscli")
	}
	v2 := "/usr/bin/aws"
	if _, err := os.Stat(v2); err != nil {
		t.Fatal("AWS CLI v2 not found at /usr/bin/aws: apt-get install awscli")
	}
	return map[string]string{"v1": v1[0], "v2": v2}
}

// writeProfile writes an AWS config whose default profile gets credentials from awskeep.
func (u *user) writeProfile(t *testing.T, object string, extra string) {
	t.Helper()
	line := fmt.Sprintf(`%s credential-process --key "%s" --access-key-id %s --endpoint-url %s %s`,
		awskeep, u.keyURI(object), world.alice.AccessKeyID, world.server.URL, extra)
	config := "[default]\nregion = us-east-1\ncredential_process = " + line + "\n"
	if err := os.WriteFile(filepath.Join(u.home, "aws-config"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestAWSCLIThroughCredentialProcess(t *testing.T) {
	u := newUser(t)
	u.importKey("prod", world.alice.SecretAccessKey)
	u.writeProfile(t, "prod", "--role-arn "+world.roleARN+" --role-session-name cli")
	for version, cli := range awsCLIs(t) {
		t.Run(version, func(t *testing.T) {
			// CLI v2 2.9 ignores AWS_ENDPOINT_URL; --endpoint-url works for both.
			r := u.exec(cli, "", nil, "--endpoint-url", world.server.URL, "sts", "get-caller-identity", "--output", "text")
			mustSucceed(t, r, "aws sts get-caller-identity")
			if !strings.Contains(r.stdout, "assumed-role/deployer/cli") {
				t.Fatalf("aws sts get-caller-identity = %q, want the assumed role", r.stdout)
			}
			s3 := u.exec(cli, "", nil, "--endpoint-url", world.server.URL, "s3api", "list-objects-v2",
				"--bucket", bucket, "--query", "Contents[].Key", "--output", "text")
			mustSucceed(t, s3, "aws s3api list-objects-v2")
			if strings.TrimSpace(s3.stdout) != object {
				t.Fatalf("aws s3api list-objects-v2 = %q, want %q", s3.stdout, object)
			}
		})
	}
}

func TestAWSCLIShowsAwskeepErrors(t *testing.T) {
	u := newUser(t)
	u.writeProfile(t, "missing", "--role-arn "+world.roleARN+" --no-cache")
	cli := awsCLIs(t)["v1"]
	r := u.exec(cli, "", nil, "--endpoint-url", world.server.URL, "sts", "get-caller-identity")
	if r.code == 0 {
		t.Fatal("the AWS CLI got credentials for a key that does not exist")
	}
	if !strings.Contains(r.stderr, "awskeep: ") || !strings.Contains(r.stderr, "key not found") {
		t.Fatalf("the AWS CLI does not pass on awskeep's message:\n%s", r.stderr)
	}
}
