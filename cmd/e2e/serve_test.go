package e2e

import (
	"context"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/mototest"
)

// botoScript prints how boto3 found its credentials (the provider's method), then the
// caller's ARN and the keys of the demo bucket.
const botoScript = `import boto3
s = boto3.Session()
c = s.get_credentials()
print(c.method if c else "none")
print(s.client("sts").get_caller_identity()["Arn"])
print(" ".join(o["Key"] for o in s.client("s3").list_objects_v2(Bucket="` + bucket + `")["Contents"]))
`

// TestServeClients runs real clients against `awskeep serve` with no credentials of their
// own: the AWS CLI v1, boto3 and aws-sdk-go-v2 through the ECS container endpoint.
func TestServeClients(t *testing.T) {
	u := serveUser(t, world.server.URL)
	s := u.startServe(t, nil, nil, "--profile", "serve")
	want := assumedRole("deployer", servedSession)
	clis := awsCLIs(t)

	t.Run("the endpoint serves working credentials", func(t *testing.T) {
		c, err := fetchServed(http.DefaultClient, s.url(), s.token())
		if err != nil {
			t.Fatal(err)
		}
		u.remember(c)
		if !strings.HasPrefix(c.AccessKeyID, "ASIA") {
			t.Fatalf("served access key id %q is not a temporary one", c.AccessKeyID)
		}
		if got := callerARN(t, creds.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.Token}); got != want {
			t.Fatalf("caller = %q, want %q", got, want)
		}
	})

	t.Run("AWS CLI v1", func(t *testing.T) {
		env := s.ecsEnv(u)
		for _, kv := range env {
			if strings.HasPrefix(kv, "AWS_ACCESS_KEY_ID=") || strings.HasPrefix(kv, "AWS_SECRET_ACCESS_KEY=") {
				t.Fatalf("the client environment holds credentials: %s", kv)
			}
		}
		r := u.exec(clis["v1"], "", env, "sts", "get-caller-identity", "--output", "text")
		mustSucceed(t, r, "aws sts get-caller-identity")
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("aws sts get-caller-identity = %q, want %s", r.stdout, want)
		}
		r = u.exec(clis["v1"], "", env, "s3api", "list-objects-v2", "--bucket", bucket, "--query", "Contents[].Key", "--output", "text")
		mustSucceed(t, r, "aws s3api list-objects-v2")
		if strings.TrimSpace(r.stdout) != object {
			t.Fatalf("aws s3api list-objects-v2 = %q, want %q", r.stdout, object)
		}
	})

	t.Run("boto3", func(t *testing.T) {
		r := u.exec(pyenvPython(t), "", s.ecsEnv(u), "-c", botoScript)
		mustSucceed(t, r, "python -c <boto3 script>")
		if got, wantOut := r.stdout, "container-role\n"+want+"\n"+object+"\n"; got != wantOut {
			t.Fatalf("boto3 printed %q, want %q", got, wantOut)
		}
	})

	t.Run("aws-sdk-go-v2", func(t *testing.T) {
		provider := endpointcreds.New(s.url(), func(o *endpointcreds.Options) { o.AuthorizationToken = s.token() })
		c, err := provider.Retrieve(context.Background())
		if err != nil {
			t.Fatalf("endpointcreds: %v", err)
		}
		if !c.CanExpire || time.Until(c.Expires) < 15*time.Minute {
			t.Fatalf("endpointcreds: credentials expire at %v (CanExpire %v), want in about an hour", c.Expires, c.CanExpire)
		}
		if got := goCaller(t, provider); got != want {
			t.Fatalf("aws-sdk-go-v2 caller = %q, want %q", got, want)
		}
	})

	t.Run("SIGTERM stops it", func(t *testing.T) {
		s.stop(syscall.SIGTERM)
	})
}

// goCaller calls sts GetCallerIdentity on moto with aws-sdk-go-v2 and credentials from p.
func goCaller(t *testing.T, p aws.CredentialsProvider) string {
	t.Helper()
	api := awssts.New(awssts.Options{
		Region: mototest.Region, BaseEndpoint: aws.String(world.server.URL),
		Credentials: aws.NewCredentialsCache(p),
	})
	out, err := api.GetCallerIdentity(context.Background(), &awssts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity with served credentials: %v", err)
	}
	return aws.ToString(out.Arn)
}

// TestServeIMDS serves IMDSv2 with --imds to boto3, the AWS CLI v1 and aws-sdk-go-v2,
// each given only AWS_EC2_METADATA_SERVICE_ENDPOINT.
func TestServeIMDS(t *testing.T) {
	u := serveUser(t, world.server.URL)
	s := u.startServe(t, nil, nil, "--profile", "serve", "--imds")
	if s.vars[imdsVar] != strings.TrimSuffix(s.url(), "/awskeep/credentials")+"/" {
		t.Fatalf("%s = %q, %s = %q: not the same server", imdsVar, s.vars[imdsVar], fullURIVar, s.url())
	}
	env := append(u.clientEnv(), imdsVar+"="+s.vars[imdsVar])
	want := assumedRole("deployer", servedSession)

	t.Run("IMDSv1 is refused", func(t *testing.T) {
		status, body, err := get(http.DefaultClient, s.vars[imdsVar]+"latest/meta-data/iam/security-credentials/awskeep")
		if err != nil {
			t.Fatal(err)
		}
		if status != http.StatusUnauthorized || len(body) != 0 {
			t.Fatalf("GET without a session token: %d %q, want 401 and no body", status, body)
		}
	})

	t.Run("boto3", func(t *testing.T) {
		r := u.exec(pyenvPython(t), "", env, "-c", botoScript)
		mustSucceed(t, r, "python -c <boto3 script>")
		if got, wantOut := r.stdout, "iam-role\n"+want+"\n"+object+"\n"; got != wantOut {
			t.Fatalf("boto3 printed %q, want %q", got, wantOut)
		}
	})

	t.Run("AWS CLI v1", func(t *testing.T) {
		r := u.exec(awsCLIs(t)["v1"], "", env, "sts", "get-caller-identity", "--output", "text")
		mustSucceed(t, r, "aws sts get-caller-identity")
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("aws sts get-caller-identity = %q, want %s", r.stdout, want)
		}
	})

	t.Run("aws-sdk-go-v2", func(t *testing.T) {
		provider := ec2rolecreds.New(func(o *ec2rolecreds.Options) {
			o.Client = imds.New(imds.Options{Endpoint: s.vars[imdsVar]})
		})
		c, err := provider.Retrieve(context.Background())
		if err != nil {
			t.Fatalf("ec2rolecreds: %v", err)
		}
		u.tokens = append(u.tokens, c.SecretAccessKey, c.SessionToken)
		if got := goCaller(t, provider); got != want {
			t.Fatalf("aws-sdk-go-v2 caller = %q, want %q", got, want)
		}
	})

	s.stop(syscall.SIGTERM)
}

// TestServeWrongToken: a request without the token, or with a wrong one, gets 401 and
// nothing else; the AWS CLI given a wrong token fails and says so.
func TestServeWrongToken(t *testing.T) {
	u := serveUser(t, world.server.URL)
	s := u.startServe(t, nil, nil, "--profile", "serve")
	tok := s.token()
	for _, tc := range []struct {
		name string
		auth []string
	}{
		{"no Authorization header", nil},
		{"empty", []string{""}},
		{"wrong token", []string{strings.Repeat("x", len(tok))}},
		{"token with a suffix", []string{tok + "x"}},
		{"token prefix", []string{tok[:len(tok)-1]}},
		{"Bearer scheme", []string{"Bearer " + tok}},
		{"token twice", []string{tok, tok}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, err := get(http.DefaultClient, s.url(), tc.auth...)
			if err != nil {
				t.Fatal(err)
			}
			if status != http.StatusUnauthorized || len(body) != 0 {
				t.Fatalf("GET with %s: %d %q, want 401 and an empty body", tc.name, status, body)
			}
		})
	}
	t.Run("the right token still works", func(t *testing.T) {
		c, err := fetchServed(http.DefaultClient, s.url(), tok)
		if err != nil {
			t.Fatal(err)
		}
		u.remember(c)
	})
	t.Run("AWS CLI v1 with a wrong token", func(t *testing.T) {
		env := append(s.ecsEnv(u), authTokenVar+"="+strings.Repeat("x", len(tok)))
		r := u.exec(awsCLIs(t)["v1"], "", env, "sts", "get-caller-identity", "--output", "text")
		t.Logf("aws with a wrong token: exit %d, stderr: %s", r.code, strings.TrimSpace(r.stderr))
		if r.code == 0 {
			t.Fatalf("aws sts get-caller-identity with a wrong token succeeded: %s", r.stdout)
		}
		// botocore: "Error when retrieving credentials from container-role: Error retrieving
		// metadata: Received non 200 response 401 from container metadata: " (the body is empty).
		for _, w := range []string{"Error when retrieving credentials from container-role", "401"} {
			if !strings.Contains(r.stderr, w) {
				t.Fatalf("the AWS CLI does not say %q:\n%s", w, r.stderr)
			}
		}
	})
	s.stop(syscall.SIGTERM)
}

// TestExecServer runs a command under `awskeep exec --server`: it reaches AWS through the
// endpoint and its environment holds the endpoint, never the credentials or the PIN.
func TestExecServer(t *testing.T) {
	u := serveUser(t, world.server.URL)
	// awskeep's own environment holds a PIN and stale credentials; none may reach the child.
	stale := []string{"AWSKEEP_PIN=" + userPIN, "AWS_ACCESS_KEY_ID=AKIASTALE00000000000",
		"AWS_SECRET_ACCESS_KEY=stale-secret-from-the-parent", "AWS_SESSION_TOKEN=stale-token-from-the-parent",
		"AWS_ENDPOINT_URL=" + world.server.URL}

	t.Run("the AWS CLI", func(t *testing.T) {
		r := u.run("", stale, "exec", "--server", "--profile", "serve", "--", awsCLIs(t)["v1"], "sts", "get-caller-identity", "--output", "text")
		mustSucceed(t, r, "exec --server -- aws sts get-caller-identity")
		if !strings.Contains(r.stdout, assumedRole("deployer", servedSession)) {
			t.Fatalf("aws sts get-caller-identity under exec --server = %q", r.stdout)
		}
		noPluginLeft(t)
	})

	t.Run("the child's environment", func(t *testing.T) {
		r := u.run("", stale, "exec", "--server", "--profile", "serve", "--", "env")
		mustSucceed(t, r, "exec --server -- env")
		env := map[string]string{}
		for _, l := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
			if k, v, ok := strings.Cut(l, "="); ok {
				env[k] = v
			}
		}
		if !strings.HasPrefix(env[fullURIVar], "http://127.0.0.1:") || !strings.HasSuffix(env[fullURIVar], "/awskeep/credentials") {
			t.Errorf("%s = %q, want the loopback endpoint", fullURIVar, env[fullURIVar])
		}
		if len(env[authTokenVar]) < 32 {
			t.Errorf("%s = %q, want a random token", authTokenVar, env[authTokenVar])
		}
		if env["AWS_REGION"] != "us-east-1" {
			t.Errorf("AWS_REGION = %q, want the profile's us-east-1", env["AWS_REGION"])
		}
		for _, name := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CREDENTIAL_EXPIRATION", "AWSKEEP_PIN"} {
			if v, ok := env[name]; ok {
				t.Errorf("the child's environment holds %s=%q", name, v)
			}
		}
		for _, secret := range append([]string{"stale-secret-from-the-parent", "stale-token-from-the-parent"}, u.secrets...) {
			if strings.Contains(r.stdout, secret) {
				t.Errorf("the child's environment holds a secret of the parent")
			}
		}
		noPluginLeft(t)
	})

	t.Run("STS unreachable", func(t *testing.T) {
		// The command never runs, and the failure is said once.
		u.writeServeProfile(t, closedEndpoint(t))
		defer u.writeServeProfile(t, world.server.URL)
		r := u.run("", stale, "exec", "--server", "--profile", "serve", "--no-cache", "--", "echo", "the child ran")
		mustFailClearly(t, r, "STS")
		noPluginLeft(t)
	})
}

// TestServeUnderLoad has 200 clients request credentials without pause for 20 s while an
// STS shim makes them live 3 s, so the server refreshes about every 1.5 s, and the plugin
// is killed once. Every answer must be complete and unexpired when the request was sent;
// only requests around the kill may fail; a new plugin takes over; memory stays flat.
func TestServeUnderLoad(t *testing.T) {
	const (
		clients  = 200
		duration = 20 * time.Second
		warmUp   = 5 * time.Second
		killAt   = 8 * time.Second
		lifetime = 3 * time.Second
	)
	shim := startSTSShim(t, lifetime)
	u := serveUser(t, shim.URL)
	s := u.startServe(t, nil, nil, "--profile", "serve")
	first := childPlugins(t, s.pid())
	if len(first) != 1 {
		t.Fatalf("serve runs %d plugins (%v), want 1 kept warm", len(first), first)
	}
	callsAtStart := shim.calls.Load()
	if callsAtStart == 0 {
		t.Fatal("the first credentials did not come through the STS shim: the test proves nothing")
	}

	client := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
		MaxIdleConns: clients, MaxIdleConnsPerHost: clients, IdleConnTimeout: time.Minute,
	}}
	defer client.CloseIdleConnections()
	type failure struct {
		sent time.Time
		err  error
	}
	var (
		succeeded atomic.Int64
		killedAt  atomic.Int64 // UnixNano of the kill, 0 before
		okAfter   atomic.Int64 // successes of requests sent after the kill
		mu        sync.Mutex
		failures  []failure
		keys      = map[string]bool{}
		wg        sync.WaitGroup
	)
	start := time.Now()
	end := start.Add(duration)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				sent := time.Now()
				c, err := fetchServed(client, s.url(), s.token())
				mu.Lock()
				if err != nil {
					failures = append(failures, failure{sent, err})
				} else {
					keys[c.AccessKeyID] = true
				}
				mu.Unlock()
				if err == nil {
					succeeded.Add(1)
					if k := killedAt.Load(); k != 0 && sent.UnixNano() > k {
						okAfter.Add(1)
					}
				}
			}
		}()
	}

	time.Sleep(warmUp)
	rssBefore := vmRSS(t, s.pid())
	time.Sleep(time.Until(start.Add(killAt)))
	if err := syscall.Kill(first[0], syscall.SIGKILL); err != nil {
		t.Fatalf("kill the plugin: %v", err)
	}
	kill := time.Now()
	killedAt.Store(kill.UnixNano())
	var replacement int
	for replacement == 0 && time.Now().Before(end) {
		for _, pid := range childPlugins(t, s.pid()) {
			if pid != first[0] {
				replacement = pid
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	replacedIn := time.Since(kill)
	wg.Wait()
	elapsed := time.Since(start)
	rssAfter := vmRSS(t, s.pid())
	refreshes := shim.calls.Load() - callsAtStart

	// The clients are done (wg.Wait): their results can be read without mu.
	total := succeeded.Load() + int64(len(failures))
	t.Logf("%d requests in %v (%.0f/s) by %d clients: %d failed; %d refreshes through the STS shim, %d distinct access keys served",
		total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(), clients, len(failures), refreshes, len(keys))
	t.Logf("plugin %d killed at %v, replaced by %d after %v; %d requests sent after the kill succeeded",
		first[0], kill.Sub(start).Round(time.Millisecond), replacement, replacedIn.Round(time.Millisecond), okAfter.Load())
	t.Logf("VmRSS of serve: %.1f MB after %v of warm-up, %.1f MB at the end (%+.1f MB)",
		mb(rssBefore), warmUp, mb(rssAfter), mb(rssAfter-rssBefore))
	for i, f := range failures {
		if i < 5 {
			t.Logf("failure: request sent at %v (kill %+v): %v", f.sent.Sub(start).Round(time.Millisecond), f.sent.Sub(kill).Round(time.Millisecond), f.err)
		}
	}

	if len(failures) > clients {
		t.Errorf("%d requests failed, want at most the %d in flight when the plugin was killed", len(failures), clients)
	}
	for _, f := range failures {
		if since := f.sent.Sub(kill); since < -time.Second || since > 5*time.Second {
			t.Errorf("a request sent %v after the kill failed (only those around the kill may): %v", since.Round(time.Millisecond), f.err)
			break
		}
	}
	if replacement == 0 {
		t.Errorf("no new plugin started within %v of the kill", replacedIn.Round(time.Millisecond))
	}
	if okAfter.Load() == 0 {
		t.Error("no request sent after the kill succeeded")
	}
	// About 14 expected: the lifetime is 2-3 s (the shim's expiration is to the second),
	// refreshed half-way (at least 1 s after the last), plus the fetch: every 1.3-1.6 s.
	if minimum := int64(duration / (5 * lifetime / 6)); refreshes < minimum || int64(len(keys)) < minimum {
		t.Errorf("%d refreshes and %d distinct access keys in %v, want at least %d of each", refreshes, len(keys), duration, minimum)
	}
	if succeeded.Load() < int64(duration/time.Second)*clients {
		t.Errorf("only %d requests succeeded in %v", succeeded.Load(), duration)
	}
	if growth := rssAfter - rssBefore; growth >= 20<<20 {
		t.Errorf("VmRSS of serve grew by %.1f MB under load, want < 20 MB", mb(growth))
	}
	if strings.Contains(s.stderr.String(), "panic") {
		t.Errorf("serve's stderr holds a panic:\n%s", s.stderr)
	}
	s.stop(syscall.SIGTERM)
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

// TestServeLogsNoSecret runs serve with --debug and both protocols in use: its log holds
// debug lines but no PIN, long-term secret, served credential, ECS token or IMDS session
// token; the ECS token is printed on stdout only; no process's argv holds a secret.
func TestServeLogsNoSecret(t *testing.T) {
	u := serveUser(t, world.server.URL)
	s := u.startServe(t, []string{"AWSKEEP_PIN=" + userPIN}, []string{"--debug"}, "--profile", "serve", "--imds")
	c, err := fetchServed(http.DefaultClient, s.url(), s.token())
	if err != nil {
		t.Fatal(err)
	}
	u.remember(c)
	if status, _, err := get(http.DefaultClient, s.url(), "wrong-token-0123456789abcdef"); err != nil || status != http.StatusUnauthorized {
		t.Fatalf("GET with a wrong token: %d %v", status, err)
	}
	// IMDSv2 by hand: the session token must not be logged either.
	req, _ := http.NewRequest(http.MethodPut, s.vars[imdsVar]+"latest/api/token", nil)
	req.Header.Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", "60")
	session := readAll(t, req)
	req, _ = http.NewRequest(http.MethodGet, s.vars[imdsVar]+"latest/meta-data/iam/security-credentials/awskeep", nil)
	req.Header.Set("X-Aws-Ec2-Metadata-Token", session)
	if body := readAll(t, req); !strings.Contains(body, c.Token) {
		t.Fatalf("IMDS serves other credentials than ECS: %.100s", body)
	}

	plugins := childPlugins(t, s.pid())
	if len(plugins) != 1 {
		t.Fatalf("serve runs %d plugins, want 1", len(plugins))
	}
	// The PIN is in serve's environment ($AWSKEEP_PIN, given by the user) but must not
	// reach the plugin's: the host sends it with each request.
	argv := []string{procFile(t, s.pid(), "cmdline"), procFile(t, plugins[0], "cmdline")}
	pluginEnv := procFile(t, plugins[0], "environ")
	s.stop(syscall.SIGTERM)

	log := s.stderr.String()
	if !strings.Contains(log, "level=DEBUG") {
		t.Fatalf("serve --debug logged no debug lines:\n%s", log)
	}
	if !strings.Contains(log, "status=401") || !strings.Contains(log, "status=200") {
		t.Errorf("serve --debug does not log its requests:\n%s", log)
	}
	secrets := map[string]string{
		"the PIN": userPIN, "alice's secret": world.alice.SecretAccessKey, "mallory's secret": world.mallory.SecretAccessKey,
		"the temporary secret": c.SecretAccessKey, "the session token": c.Token,
		"the ECS token": s.token(), "the IMDS session token": session,
	}
	for what, secret := range secrets {
		if strings.Contains(log, secret) {
			t.Errorf("serve's log holds %s", what)
		}
		for _, a := range argv {
			if strings.Contains(a, secret) {
				t.Errorf("the argv %q holds %s", a, what)
			}
		}
		if strings.Contains(pluginEnv, secret) {
			t.Errorf("the plugin's environment holds %s", what)
		}
	}
	if !strings.Contains(s.stdout.String(), s.token()) {
		t.Error("the ECS token is not on stdout")
	}
	for _, secret := range []string{userPIN, c.SecretAccessKey, c.Token, session} {
		if strings.Contains(s.stdout.String(), secret) {
			t.Error("serve's stdout holds a secret")
		}
	}
}

// readAll sends req and returns the body of its 200 answer.
func readAll(t *testing.T, req *http.Request) string {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %q", req.Method, req.URL.Path, resp.StatusCode, body)
	}
	return string(body)
}

// TestServeStopsOnSIGINT: Ctrl-C stops serve cleanly too (exit 0, no plugin left, the
// port closed). It also covers --format json.
func TestServeStopsOnSIGINT(t *testing.T) {
	u := serveUser(t, world.server.URL)
	s := u.startServe(t, nil, nil, "--profile", "serve", "--format", "json")
	if keys := slices.Sorted(maps.Keys(s.vars)); !slices.Equal(keys, []string{authTokenVar, fullURIVar}) {
		t.Fatalf("serve --format json printed %v", keys)
	}
	c, err := fetchServed(http.DefaultClient, s.url(), s.token())
	if err != nil {
		t.Fatal(err)
	}
	u.remember(c)
	s.stop(syscall.SIGINT)
	if _, _, err := get(&http.Client{Timeout: 5 * time.Second}, s.url(), s.token()); err == nil {
		t.Fatal("the endpoint still answers after serve exited")
	}
}

// TestServeRefusals: serve fails at start, with one clear line and nothing on stdout, when
// it could not serve: STS unreachable, or a listen address other machines can reach
// without --allow-remote (a usage error).
func TestServeRefusals(t *testing.T) {
	u := serveUser(t, closedEndpoint(t))
	r := u.run("", nil, "serve", "--profile", "serve", "--no-cache")
	mustFailClearly(t, r, "STS")
	t.Logf("STS unreachable: %s", strings.TrimSpace(r.stderr))
	noPluginLeft(t)

	u.writeServeProfile(t, world.server.URL)
	before := stsCalls(t)
	r = u.run("", nil, "serve", "--profile", "serve", "--listen", "0.0.0.0:0")
	mustFailUsage(t, r, "0.0.0.0:0", "--allow-remote")
	t.Logf("non-loopback address: %s", strings.TrimSpace(r.stderr))
	if stsCalls(t) != before {
		t.Error("serve called STS before refusing its listen address")
	}
	noPluginLeft(t)
}
