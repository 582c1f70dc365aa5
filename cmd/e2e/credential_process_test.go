package e2e

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awskeep/awskeep/core/credproc"
	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/mototest"
	"github.com/awskeep/awskeep/plugin-softhsm/softhsmtest"
)

// credentialProcess runs awskeep credential-process for alice's key and parses its output.
func (u *user) credentialProcess(object string, extra ...string) creds.Credentials {
	u.t.Helper()
	args := append([]string{"credential-process", "--key", u.keyURI(object),
		"--access-key-id", world.alice.AccessKeyID, "--endpoint-url", world.server.URL}, extra...)
	r := u.run("", nil, args...)
	mustSucceed(u.t, r, "credential-process")
	out, err := credproc.Parse([]byte(r.stdout))
	if err != nil {
		u.t.Fatalf("credential-process printed something that is not credential_process JSON: %v", err)
	}
	if !strings.HasSuffix(r.stdout, "}\n") || strings.Count(r.stdout, "\n") != 1 {
		u.t.Fatalf("stdout holds more than the JSON object")
	}
	u.tokens = append(u.tokens, out.SecretAccessKey, out.SessionToken)
	return out
}

// callerARN asks moto, through the plain SDK, whose credentials these are.
func callerARN(t *testing.T, c creds.Credentials) string {
	t.Helper()
	api := awssts.New(awssts.Options{
		Region: mototest.Region, BaseEndpoint: aws.String(world.server.URL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}, nil
		}),
	})
	out, err := api.GetCallerIdentity(context.Background(), &awssts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("moto refused the credentials: %v", err)
	}
	return aws.ToString(out.Arn)
}

func TestImportThenAssumeRole(t *testing.T) {
	u := newUser(t)
	u.importKey("prod", world.alice.SecretAccessKey)

	t.Run("the secret cannot be read back through PKCS#11", func(t *testing.T) {
		pkcs11Tool, err := exec.LookPath("pkcs11-tool")
		if err != nil {
			t.Fatal("pkcs11-tool not found: apt-get install opensc")
		}
		r := u.exec(pkcs11Tool, "", nil, "--module", softhsmtest.ModulePath,
			"--token-label", "aws", "--login", "--pin", userPIN,
			"--read-object", "--type", "secrkey", "--label", "prod")
		if r.code == 0 {
			t.Fatalf("pkcs11-tool read the key's value: %q", r.stdout)
		}
		listed := u.exec(pkcs11Tool, "", nil, "--module", softhsmtest.ModulePath, "--token-label", "aws",
			"--login", "--pin", userPIN, "--list-objects", "--type", "secrkey")
		mustSucceed(t, listed, "pkcs11-tool --list-objects")
		// pkcs11-tool lists "extractable" among the access flags when CKA_EXTRACTABLE is true.
		if !strings.Contains(listed.stdout, "label:      prod") || !strings.Contains(listed.stdout, "Access:     sensitive") ||
			strings.Contains(listed.stdout, " extractable") {
			t.Errorf("pkcs11-tool --list-objects does not show a sensitive, non-extractable key:\n%s", listed.stdout)
		}
	})

	t.Run("keys describe", func(t *testing.T) {
		r := u.run("", nil, "keys", "describe", "--key", u.keyURI("prod"))
		mustSucceed(t, r, "keys describe")
		var d struct {
			Exists, Extractable, Sensitive bool
			Algorithm, Label, URI          string
		}
		if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
			t.Fatalf("keys describe printed %q: %v", r.stdout, err)
		}
		if !d.Exists || d.Extractable || !d.Sensitive || d.Algorithm != "hmac-sha256" || d.Label != "prod" {
			t.Fatalf("keys describe = %+v", d)
		}
		if strings.Contains(d.URI, "pin-source") {
			t.Fatalf("the described URI keeps the pin-source: %s", d.URI)
		}
	})

	t.Run("credential-process with a role", func(t *testing.T) {
		out := u.credentialProcess("prod", "--role-arn", world.roleARN, "--role-session-name", "e2e", "--no-cache")
		if got, want := callerARN(t, out), "arn:aws:sts::"+mototest.AccountID+":assumed-role/deployer/e2e"; got != want {
			t.Fatalf("caller = %q, want %q", got, want)
		}
		if left := time.Until(out.Expiration); left < 15*time.Minute {
			t.Fatalf("credentials expire in %v: clients would call again at once", left)
		}
	})

	t.Run("credential-process without a role calls GetSessionToken", func(t *testing.T) {
		out := u.credentialProcess("prod", "--duration", "2h", "--no-cache")
		if out.AccessKeyID == "" || out.SecretAccessKey == "" || out.SessionToken == "" {
			t.Fatalf("incomplete output")
		}
		// moto's GetSessionToken always answers with this fixed key (FACTS.md), which shows
		// the call was GetSessionToken and not AssumeRole.
		if out.AccessKeyID != "AKIAIOSFODNN7EXAMPLE" {
			t.Fatalf("AccessKeyId = %q, want moto's fixed GetSessionToken key", out.AccessKeyID)
		}
	})

	t.Run("the secret is in no file", func(t *testing.T) {
		for _, dir := range []string{u.home, u.softhsm.TokenDir, binDir, pluginDir} {
			notInFiles(t, dir, world.alice.SecretAccessKey, "", "the AWS secret")
			notInFiles(t, dir, userPIN, u.pinFile, "the PIN")
		}
	})
}
