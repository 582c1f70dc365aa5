package devicesign

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/devicekey"
	"github.com/awskeep/awskeep/core/engine"
	"github.com/awskeep/awskeep/core/mototest"
	"github.com/awskeep/awskeep/core/pluginhost"
	"github.com/awskeep/awskeep/plugins"
)

// The tests use the example plugin, a real plugin subprocess that keeps keys in memory,
// and moto, which checks every SigV4 signature.
var (
	pluginDir string
	moto      *mototest.Server
	alice     mototest.User
	mallory   mototest.User
	roleARN   string
)

func TestMain(m *testing.M) {
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "devicesign test setup:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	tmp, err := os.MkdirTemp("", "devicesign-")
	if err != nil {
		return 1, err
	}
	defer os.RemoveAll(tmp)
	pluginDir = filepath.Join(tmp, "plugins")
	build := exec.Command("go", "build", "-o", pluginDir+"/", "github.com/awskeep/awskeep/plugins/example/cmd/awskeep-plugin-example")
	if out, err := build.CombinedOutput(); err != nil {
		return 1, fmt.Errorf("build the example plugin: %v\n%s", err, out)
	}
	ctx := context.Background()
	if moto, err = mototest.StartServer(ctx, tmp); err != nil {
		return 1, err
	}
	defer moto.Stop()
	if alice, err = moto.CreateUser(ctx, "alice", true); err != nil {
		return 1, err
	}
	if mallory, err = moto.CreateUser(ctx, "mallory", false); err != nil {
		return 1, err
	}
	if roleARN, err = moto.CreateRole(ctx, "deployer", alice.ARN); err != nil {
		return 1, err
	}
	if err := moto.EnableAuth(ctx); err != nil {
		return 1, err
	}
	return m.Run(), nil
}

const testPIN = "2468-devicesign"

// openTestKey imports secret under a fresh example key and opens it as accessKeyID.
func openTestKey(t *testing.T, accessKeyID, secret string, optFns ...func(*Options)) *Key {
	t.Helper()
	ctx := context.Background()
	opts := Options{
		Plugins:  pluginhost.Options{Dir: pluginDir, Getenv: func(string) string { return "" }},
		Getenv:   func(string) string { return "" },
		NoPrompt: true,
	}
	for _, fn := range optFns {
		fn(&opts)
	}
	uri := "example:name=" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	pool := pluginhost.NewPool(nil, opts.Plugins)
	if err := pool.ImportKey(ctx, plugins.Key{URI: uri, PIN: testPIN}, devicekey.Material(secret), plugins.ImportOptions{}); err != nil {
		pool.Close()
		t.Fatal(err)
	}
	flags := engine.Settings{Key: uri + "?pin-value=" + testPIN, AccessKeyID: accessKeyID, Region: mototest.Region, EndpointURL: moto.URL}
	if opts.Settings.RoleARN != "" {
		flags.RoleARN = opts.Settings.RoleARN
	}
	s, err := engine.Resolve(flags, nil, opts.Getenv)
	if err != nil {
		pool.Close()
		t.Fatal(err)
	}
	k, err := open(ctx, s, opts, pool)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

// stsClient is an STS client for moto built from a config the key was applied to.
func stsClient(k *Key, cfg aws.Config) *awssts.Client {
	k.Apply(&cfg)
	return awssts.NewFromConfig(cfg, func(o *awssts.Options) { o.BaseEndpoint = aws.String(moto.URL) })
}

func TestApplySignsWithDevice(t *testing.T) {
	k := openTestKey(t, alice.AccessKeyID, alice.SecretAccessKey)
	client := stsClient(k, aws.Config{})
	for range 3 {
		out, err := client.GetCallerIdentity(context.Background(), &awssts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		if got := aws.ToString(out.Arn); got != alice.ARN {
			t.Fatalf("GetCallerIdentity says %s, want %s", got, alice.ARN)
		}
	}
	if got := k.DeviceOperations(); got != 1 {
		t.Fatalf("%d device operations for 3 requests with the signing-key cache, want 1", got)
	}
	if k.Region() != mototest.Region {
		t.Fatalf("Region() = %q", k.Region())
	}
}

func TestNoSigningKeyCacheCostsOneOperationPerRequest(t *testing.T) {
	k := openTestKey(t, alice.AccessKeyID, alice.SecretAccessKey, func(o *Options) { o.NoSigningKeyCache = true })
	client := stsClient(k, aws.Config{})
	const n = 4
	for range n {
		if _, err := client.GetCallerIdentity(context.Background(), &awssts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
	}
	if got := k.DeviceOperations(); got != n {
		t.Fatalf("%d device operations for %d requests without the cache, want %d", got, n, n)
	}
}

// TestWrongKeyIsRefusedByAWS: a device holding another secret signs, and AWS says so.
func TestWrongKeyIsRefusedByAWS(t *testing.T) {
	k := openTestKey(t, alice.AccessKeyID, mallory.SecretAccessKey)
	_, err := stsClient(k, aws.Config{}).GetCallerIdentity(context.Background(), &awssts.GetCallerIdentityInput{})
	// moto's STS answers a bad signature with a 403 whose body the SDK cannot parse.
	if err == nil || !strings.Contains(err.Error(), "StatusCode: 403") {
		t.Fatalf("signing with the wrong secret: %v, want HTTP 403", err)
	}
	if strings.Contains(err.Error(), mallory.SecretAccessKey) {
		t.Fatal("error shows the secret")
	}
}

func TestCredentialsProviderAssumesRole(t *testing.T) {
	k := openTestKey(t, alice.AccessKeyID, alice.SecretAccessKey, func(o *Options) { o.Settings.RoleARN = roleARN })
	provider := aws.NewCredentialsCache(k.CredentialsProvider())
	c, err := provider.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !c.CanExpire || c.Expires.Before(time.Now().Add(10*time.Minute)) || c.SessionToken == "" {
		t.Fatalf("credentials %v expire %v, want temporary credentials", c.AccessKeyID, c.Expires)
	}
	client := awssts.NewFromConfig(aws.Config{Region: mototest.Region, Credentials: provider}, func(o *awssts.Options) { o.BaseEndpoint = aws.String(moto.URL) })
	out, err := client.GetCallerIdentity(context.Background(), &awssts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(aws.ToString(out.Arn), ":assumed-role/deployer/") {
		t.Fatalf("temporary credentials are %s, want the deployer role", aws.ToString(out.Arn))
	}
	// The cache answers the second Retrieve.
	again, err := provider.Retrieve(context.Background())
	if err != nil || again.AccessKeyID != c.AccessKeyID {
		t.Fatalf("second Retrieve: %v %v, want the cached credentials", again.AccessKeyID, err)
	}
}

func TestCloseEndsEverything(t *testing.T) {
	k := openTestKey(t, alice.AccessKeyID, alice.SecretAccessKey)
	client := stsClient(k, aws.Config{})
	if _, err := client.GetCallerIdentity(context.Background(), &awssts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	pl, err := k.pool.Plugin(context.Background(), "example")
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	if !pl.Exited() {
		t.Fatal("the plugin still runs after Close")
	}
	if n := len(k.device.URI.String()); n == 0 {
		t.Fatal("no URI")
	}
	if _, err := client.GetCallerIdentity(context.Background(), &awssts.GetCallerIdentityInput{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("call after Close: %v, want ErrClosed", err)
	}
	if _, err := k.CredentialsProvider().Retrieve(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("credentials after Close: %v, want ErrClosed", err)
	}
	r, _ := http.NewRequest(http.MethodGet, "https://s3.amazonaws.com/b/k", nil)
	if _, _, err := k.Presign(context.Background(), r, "UNSIGNED-PAYLOAD", "s3", "us-east-1", time.Now(), time.Minute); !errors.Is(err, ErrClosed) {
		t.Fatalf("presign after Close: %v, want ErrClosed", err)
	}
	if err := k.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	base := Options{
		Plugins:  pluginhost.Options{Dir: pluginDir, Getenv: func(string) string { return "" }},
		Getenv:   func(string) string { return "" },
		NoPrompt: true,
	}
	cases := []struct {
		name  string
		flags engine.Settings
		class creds.Class
		want  string
	}{
		{"no such key", engine.Settings{Key: "example:name=missing?pin-value=x", AccessKeyID: alice.AccessKeyID}, creds.ClassDevice, "example:name=missing"},
		{"no plugin", engine.Settings{Key: "nosuch:name=x", AccessKeyID: alice.AccessKeyID}, creds.ClassPlugin, "awskeep-plugin-nosuch"},
		{"no PIN and no terminal", engine.Settings{Key: "example:name=x", AccessKeyID: alice.AccessKeyID}, creds.ClassPrompt, "PIN"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := base
			opts.Settings = c.flags
			_, err := Open(ctx, opts)
			if err == nil {
				t.Fatal("Open succeeded")
			}
			if got := creds.ClassOf(err); got != c.class {
				t.Errorf("class %v, want %v (%v)", got, c.class, err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not name %q", err, c.want)
			}
		})
	}
	// A profile that does not exist names the file.
	cfg := filepath.Join(t.TempDir(), "config")
	os.WriteFile(cfg, []byte("[profile other]\nregion = eu-west-1\n"), 0o600)
	opts := base
	opts.Profile, opts.ConfigFile = "prod", cfg
	if _, err := Open(ctx, opts); err == nil || !strings.Contains(err.Error(), "prod") {
		t.Fatalf("missing profile: %v", err)
	}
}

// TestLogSigningForwarded: the SDK's ClientLogMode LogSigning reaches the device signer.
func TestLogSigningForwarded(t *testing.T) {
	k := openTestKey(t, alice.AccessKeyID, alice.SecretAccessKey)
	var buf bytes.Buffer
	cfg := aws.Config{ClientLogMode: aws.LogSigning, Logger: logging.NewStandardLogger(&buf)}
	if _, err := stsClient(k, cfg).GetCallerIdentity(context.Background(), &awssts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "---[ CANONICAL STRING  ]") || !strings.Contains(buf.String(), "AWS4-HMAC-SHA256\n") {
		t.Fatalf("no signing log:\n%s", buf.String())
	}
	if strings.Contains(buf.String(), alice.SecretAccessKey) || strings.Contains(buf.String(), testPIN) {
		t.Fatal("the signing log shows a secret")
	}
}

// TestSetSignerRefusesServiceWithoutSigV4: a client options struct without HTTPSignerV4
// gets a middleware that fails its calls instead of sending unsigned requests.
func TestSetSignerRefusesServiceWithoutSigV4(t *testing.T) {
	type bearerOnlyOptions struct {
		APIOptions []func(*middleware.Stack) error
	}
	var o bearerOnlyOptions
	setSigner("CodeCatalyst", &o, Signer{})
	if len(o.APIOptions) != 1 {
		t.Fatalf("%d API options added, want 1", len(o.APIOptions))
	}
	stack := middleware.NewStack("op", func() any { return nil })
	if err := o.APIOptions[0](stack); err != nil {
		t.Fatal(err)
	}
	handler := middleware.DecorateHandler(middleware.HandlerFunc(func(context.Context, any) (any, middleware.Metadata, error) {
		return nil, middleware.Metadata{}, nil
	}), stack)
	_, _, err := handler.Handle(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "CodeCatalyst") {
		t.Fatalf("call through the refusing middleware: %v", err)
	}

}

// TestPresignSTS: the SDK's STS presign client with the Key's Signer yields a URL signed
// for the key's access key ID with the requested validity.
func TestPresignSTS(t *testing.T) {
	k := openTestKey(t, alice.AccessKeyID, alice.SecretAccessKey)
	var cfg aws.Config
	k.Apply(&cfg)
	presigner := awssts.NewPresignClient(awssts.NewFromConfig(cfg), func(o *awssts.PresignOptions) { o.Presigner = k.Signer() })
	req, err := presigner.PresignGetCallerIdentity(context.Background(), &awssts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(req.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if !strings.HasPrefix(q.Get("X-Amz-Credential"), alice.AccessKeyID+"/") || q.Get("X-Amz-Signature") == "" || q.Get("X-Amz-Expires") != "900" {
		t.Fatalf("presigned URL %s lacks the key's signature or the default 15 minutes", req.URL)
	}
	if strings.Count(req.URL, "X-Amz-Expires") != 1 {
		t.Fatalf("X-Amz-Expires twice: %s", req.URL)
	}
}
