package backend_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/awskeep/awskeep/core/mototest"
)

// world is one moto for the package: its KMS holds two keys, and two IAM users reach it: one
// allowed everything (profile kms in the shared credentials file), one allowed nothing
// (profile denied). moto verifies every request's SigV4 signature.
var world struct {
	moto            *mototest.Server
	keyA, keyB      string // aws-kms:// URIs of two KMS keys
	allowed, denied mototest.User
	credentialsFile string
	configFile      string
}

// The environment the backend (in process, and the plugin through the host's allow-list)
// finds its KMS credentials in: a shared credentials file with the profiles kms and
// denied, named by AWS_SHARED_CREDENTIALS_FILE, which $AWSKEEP_PLUGIN_ENV lets through to
// plugins.
const pluginEnv = "AWS_SHARED_CREDENTIALS_FILE AWS_CONFIG_FILE AWS_EC2_METADATA_DISABLED"

func TestMain(m *testing.M) {
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tink backend tests: setup:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	flag.Parse()
	if fuzzingOnly() {
		return m.Run(), nil
	}
	tmp, err := os.MkdirTemp("", "awskeep-tink-")
	if err != nil {
		return 1, err
	}
	defer os.RemoveAll(tmp)
	ctx := context.Background()
	moto, err := mototest.StartServer(ctx, tmp)
	if err != nil {
		return 1, err
	}
	defer moto.Stop()
	world.moto = moto
	if world.allowed, err = moto.CreateUser(ctx, "kms-user", true); err != nil {
		return 1, err
	}
	if world.denied, err = moto.CreateUser(ctx, "no-kms-user", false); err != nil {
		return 1, err
	}
	for _, k := range []*string{&world.keyA, &world.keyB} {
		if *k, err = createKMSKey(ctx, world.allowed); err != nil {
			return 1, err
		}
	}
	if err := moto.EnableAuth(ctx); err != nil {
		return 1, err
	}
	world.credentialsFile = filepath.Join(tmp, "credentials")
	world.configFile = filepath.Join(tmp, "config")
	creds := fmt.Sprintf("[kms]\naws_access_key_id = %s\naws_secret_access_key = %s\n[denied]\naws_access_key_id = %s\naws_secret_access_key = %s\n",
		world.allowed.AccessKeyID, world.allowed.SecretAccessKey, world.denied.AccessKeyID, world.denied.SecretAccessKey)
	if err := os.WriteFile(world.credentialsFile, []byte(creds), 0o600); err != nil {
		return 1, err
	}
	if err := os.WriteFile(world.configFile, nil, 0o600); err != nil {
		return 1, err
	}
	// Nothing of the test runner's own AWS settings.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			os.Unsetenv(k)
		}
	}
	os.Setenv("AWS_SHARED_CREDENTIALS_FILE", world.credentialsFile)
	os.Setenv("AWS_CONFIG_FILE", world.configFile)
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	os.Setenv("AWSKEEP_PLUGIN_ENV", pluginEnv)
	return m.Run(), nil
}

// fuzzingOnly reports a run that only lists tests or fuzzes, which needs no moto: the fuzz
// targets parse, they do not call KMS. A test that needs moto in such a run fails in uri.
func fuzzingOnly() bool {
	get := func(name string) string {
		if f := flag.Lookup(name); f != nil {
			return f.Value.String()
		}
		return ""
	}
	return get("test.list") != "" || get("test.fuzzworker") == "true" || get("test.fuzz") != "" && get("test.run") == "^$"
}

// createKMSKey creates a symmetric KMS key in moto and returns its aws-kms:// URI.
func createKMSKey(ctx context.Context, u mototest.User) (string, error) {
	c := kms.New(kms.Options{
		Region:       mototest.Region,
		BaseEndpoint: aws.String(world.moto.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(u.AccessKeyID, u.SecretAccessKey, ""),
	})
	out, err := c.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("awskeep tink test KEK")})
	if err != nil {
		return "", fmt.Errorf("moto CreateKey: %w", err)
	}
	return "aws-kms://" + aws.ToString(out.KeyMetadata.Arn), nil
}
