package e2e

import (
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// stsGetCallerIdentity is the form body of STS GetCallerIdentity (query protocol).
const stsGetCallerIdentity = "Action=GetCallerIdentity&Version=2011-06-15"

// TestCurl sends raw requests signed with the device key to moto, which recomputes every
// signature: STS GetCallerIdentity as alice, an S3 GET of the demo object, and a PUT from
// a file read back with GET.
func TestCurl(t *testing.T) {
	u := newUser(t)
	u.importKey("prod", world.alice.SecretAccessKey)
	key := []string{"--key", u.keyURI("prod"), "--access-key-id", world.alice.AccessKeyID}
	curl := func(args ...string) []string { return append(append([]string{"curl"}, key...), args...) }

	t.Run("STS GetCallerIdentity", func(t *testing.T) {
		r := u.run("", nil, curl("-d", stsGetCallerIdentity, "--service", "sts", "--region", "us-east-1", world.server.URL+"/")...)
		mustSucceed(t, r, "awskeep curl sts")
		if !strings.Contains(r.stdout, "<Arn>"+world.alice.ARN+"</Arn>") {
			t.Fatalf("GetCallerIdentity does not name alice (%s):\n%s", world.alice.ARN, r.stdout)
		}
		if r.stderr != "" {
			t.Errorf("stderr on success: %s", r.stderr)
		}
	})

	t.Run("STS from a profile, form body from stdin", func(t *testing.T) {
		u.writeConfig(t, awskeepProfile("hsm", u.keyURI("prod"), "region = us-east-1"))
		r := u.run(stsGetCallerIdentity, nil, "curl", "--profile", "hsm", "-d", "@-", "--service", "sts", world.server.URL+"/")
		mustSucceed(t, r, "awskeep curl --profile")
		if !strings.Contains(r.stdout, world.alice.ARN) {
			t.Fatalf("GetCallerIdentity does not name alice:\n%s", r.stdout)
		}
	})

	objectURL := world.server.URL + "/" + bucket + "/" + object
	t.Run("S3 GET", func(t *testing.T) {
		r := u.run("", nil, curl("--service", "s3", "--region", "us-east-1", objectURL)...)
		mustSucceed(t, r, "awskeep curl s3 get")
		if r.stdout != "hello from moto" {
			t.Fatalf("object = %q", r.stdout)
		}
	})

	t.Run("S3 PUT from a file, then GET", func(t *testing.T) {
		body := strings.Repeat("uploaded by awskeep curl\n", 20000) // 500 KB, streamed
		file := filepath.Join(t.TempDir(), "upload.txt")
		if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		// A bucket of its own: other tests list the shared bucket's objects.
		bucketURL := world.server.URL + "/awskeep-curl-put"
		mustSucceed(t, u.run("", nil, curl("-X", "PUT", "--service", "s3", "--region", "us-east-1", bucketURL)...), "awskeep curl s3 create bucket")
		url := bucketURL + "/uploaded.txt"
		r := u.run("", nil, curl("-X", "PUT", "-H", "Content-Type: text/plain", "-d", "@"+file, "--service", "s3", "--region", "us-east-1", url)...)
		mustSucceed(t, r, "awskeep curl s3 put")
		r = u.run("", nil, curl("--service", "s3", "--region", "us-east-1", url)...)
		mustSucceed(t, r, "awskeep curl s3 get after put")
		if r.stdout != body {
			t.Fatalf("read back %d bytes, want %d", len(r.stdout), len(body))
		}
	})

	t.Run("include prints the status line and headers", func(t *testing.T) {
		r := u.run("", nil, curl("-i", "--service", "s3", "--region", "us-east-1", objectURL)...)
		mustSucceed(t, r, "awskeep curl -i")
		head, got, ok := strings.Cut(r.stdout, "\n\n")
		if !strings.HasPrefix(r.stdout, "HTTP/1.1 200 OK\n") || !ok || got != "hello from moto" {
			t.Fatalf("curl -i printed:\n%s", r.stdout)
		}
		if !strings.Contains(strings.ToLower(head), "\ncontent-length: 15") {
			t.Errorf("no Content-Length header in:\n%s", head)
		}
	})

	t.Run("dry run prints the signed request and sends nothing", func(t *testing.T) {
		url := world.server.URL + "/" + bucket + "/never-sent.txt"
		r := u.run("", nil, curl("--dry-run", "-X", "PUT", "-d", "dry run body", "--service", "s3", "--region", "us-east-1", url)...)
		mustSucceed(t, r, "awskeep curl --dry-run")
		for _, want := range []string{
			"PUT /" + bucket + "/never-sent.txt HTTP/1.1\n",
			"\nAuthorization: AWS4-HMAC-SHA256 Credential=" + world.alice.AccessKeyID + "/",
			"/us-east-1/s3/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date, Signature=",
			"\nContent-Length: 12\n", "\nX-Amz-Content-Sha256: ", "\n\ndry run body\n",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("dry run lacks %q:\n%s", want, r.stdout)
			}
		}
		// Nothing was sent: the object does not exist.
		r = u.run("", nil, curl("--service", "s3", "--region", "us-east-1", url)...)
		mustFailClearly(t, r, "curl GET "+url+": HTTP 404 NoSuchKey")
	})

	t.Run("debug log shows no secret", func(t *testing.T) {
		// u.run checks every output for the PIN and the secrets; at debug level there is
		// a log to check.
		r := u.run("", nil, curl("--debug", "-d", stsGetCallerIdentity, "--service", "sts", "--region", "us-east-1", world.server.URL+"/")...)
		mustSucceed(t, r, "awskeep curl --debug")
		if !strings.Contains(r.stdout, world.alice.ARN) || !strings.Contains(r.stderr, "level=DEBUG") {
			t.Fatalf("curl --debug: stdout %q\nstderr %s", r.stdout, r.stderr)
		}
		if strings.Contains(r.stderr, "Signature=") {
			t.Errorf("the debug log shows the request's signature:\n%s", r.stderr)
		}
	})

	t.Run("S3 error names its code", func(t *testing.T) {
		url := world.server.URL + "/" + bucket + "/no-such-object"
		r := u.run("", nil, curl("--service", "s3", "--region", "us-east-1", url)...)
		mustFailClearly(t, r, "awskeep: curl GET "+url+": HTTP 404 NoSuchKey: ")
		// With -i the answer is printed as well.
		r = u.run("", nil, curl("-i", "--service", "s3", "--region", "us-east-1", url)...)
		if r.code != 1 || !strings.HasPrefix(r.stdout, "HTTP/1.1 404 ") || !strings.Contains(r.stdout, "<Code>NoSuchKey</Code>") {
			t.Fatalf("curl -i of a missing object: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
	})
}

// TestCurlCABundle: an https endpoint whose CA only --ca-bundle or $AWS_CA_BUNDLE names
// is trusted through them, and refused without.
func TestCurlCABundle(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential="+world.alice.AccessKeyID+"/") {
			http.Error(w, `{"__type":"MissingAuthenticationTokenException","message":"no signature"}`, http.StatusForbidden)
			return
		}
		io.WriteString(w, "signed and trusted")
	}))
	defer srv.Close()
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	u := newUser(t)
	u.importKey("prod", world.alice.SecretAccessKey)
	args := []string{"curl", "--key", u.keyURI("prod"), "--access-key-id", world.alice.AccessKeyID, "--service", "execute-api", srv.URL + "/"}

	r := u.run("", nil, append(args, "--ca-bundle", bundle)...)
	mustSucceed(t, r, "curl --ca-bundle")
	if r.stdout != "signed and trusted" {
		t.Fatalf("stdout %q", r.stdout)
	}
	r = u.run("", []string{"AWS_CA_BUNDLE=" + bundle}, args...)
	mustSucceed(t, r, "curl with $AWS_CA_BUNDLE")
	mustFailClearly(t, u.run("", nil, args...), "curl GET "+srv.URL+"/: ", "certificate")
	mustFailClearly(t, u.run("", nil, append(args, "--ca-bundle", filepath.Join(t.TempDir(), "missing.pem"))...), "CA bundle")
}

// TestCurlWrongSecret signs with a key that holds mallory's secret under alice's access key
// ID: moto recomputes the signature and refuses it, and the one error line names the
// code.
func TestCurlWrongSecret(t *testing.T) {
	u := newUser(t)
	u.importKey("wrong", world.mallory.SecretAccessKey)
	key := []string{"--key", u.keyURI("wrong"), "--access-key-id", world.alice.AccessKeyID}
	t.Run("STS", func(t *testing.T) {
		r := u.run("", nil, append([]string{"curl"}, append(key, "-d", stsGetCallerIdentity, "--service", "sts", "--region", "us-east-1", world.server.URL+"/")...)...)
		mustFailClearly(t, r, "awskeep: curl POST "+world.server.URL+"/: HTTP 403 SignatureDoesNotMatch: ")
		if strings.Contains(r.stderr, "Authorization") || strings.Contains(r.stderr, "Signature=") {
			t.Errorf("the error line shows the Authorization header: %s", r.stderr)
		}
	})
	t.Run("S3", func(t *testing.T) {
		url := world.server.URL + "/" + bucket + "/" + object
		r := u.run("", nil, append([]string{"curl"}, append(key, "--service", "s3", "--region", "us-east-1", url)...)...)
		mustFailClearly(t, r, "awskeep: curl GET "+url+": HTTP 403 SignatureDoesNotMatch: ")
	})
}

// TestCurlUsageErrors: a bad command line exits 2 before any device is asked.
func TestCurlUsageErrors(t *testing.T) {
	u := newUser(t)
	key := []string{"--key", u.keyURI("prod"), "--access-key-id", world.alice.AccessKeyID}
	url := world.server.URL + "/"
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no URL", key, "no URL"},
		{"two URLs", append(key, url, url), "one URL only"},
		{"header without a colon", append(key, "--service", "sts", "-H", "X-Foo bar", url), "-H #1: want 'Name: value'"},
		{"header with a bad name", append(key, "--service", "sts", "-H", "X Foo: bar", url), "-H #1"},
		{"Authorization header", append(key, "--service", "sts", "-H", "Authorization: x", url), "awskeep signs the request"},
		{"no key, no profile", []string{"--service", "sts", url}, "--profile NAME"},
		{"no service for a host that is not AWS's", append(key, url), "--service"},
		{"not an http URL", append(key, "--service", "s3", "ftp://example.com/x"), "https:// or http://"},
		{"bad method", append(key, "--service", "sts", "-X", "GE T", url), "-X"},
		{"two bodies", append(key, "--service", "sts", "-d", "@-", "-d", "x", url), "-d @FILE or @-"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mustFailUsage(t, u.run("", nil, append([]string{"curl"}, tt.args...)...), tt.want)
		})
	}
}
