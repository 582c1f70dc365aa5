package vaulttest

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/buildtest"
	"github.com/awskeep/awskeep/plugins"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/builtin/credential/approle"
	"github.com/hashicorp/vault/builtin/logical/transit"
	vaulthttp "github.com/hashicorp/vault/http"
	"github.com/hashicorp/vault/sdk/logical"
	"github.com/hashicorp/vault/vault"
)

// pluginBin is awskeep-plugin-vault, built once for the package by TestMain.
var pluginBin string

// repoRoot is the awskeep checkout: the directory that holds go.work.
var repoRoot string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		fmt.Fprintln(os.Stderr, "vaulttest:", err)
		return 1
	}
	repoRoot = root
	dir, err := os.MkdirTemp("", "awskeep-vaulttest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "vaulttest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := goBuild(filepath.Join(repoRoot, "plugin-vault"), dir, "./cmd/awskeep-plugin-vault"); err != nil {
		fmt.Fprintln(os.Stderr, "vaulttest:", err)
		return 1
	}
	pluginBin = filepath.Join(dir, "awskeep-plugin-vault")
	return m.Run()
}

// goBuild builds pkgs in moduleDir into outDir as the Makefile does: pure Go, trimmed, in
// the checkout's workspace (this module runs with GOWORK=off; the products build with
// go.work).
func goBuild(moduleDir, outDir string, pkgs ...string) error {
	return buildtest.Build(moduleDir, outDir, pkgs, func(o *buildtest.Options) { o.Flags = []string{"-trimpath"} })
}

// Policies as docs/backend-vault.md gives them. Vault's "*" globs only at the end of a
// path; "+" stands for one segment, here any key of the mount.
const (
	// adminPolicy lets a token import, describe and delete keys, and use them; on
	// keys/NAME/config it may set deletion_allowed and nothing else (not exportable).
	adminPolicy = `
path "transit/wrapping_key"      { capabilities = ["read"] }
path "transit/keys/+"            { capabilities = ["read", "delete"] }
path "transit/keys/+/import"     { capabilities = ["update"] }
path "transit/keys/+/config" {
  capabilities       = ["update"]
  allowed_parameters = { "deletion_allowed" = [] }
}
path "transit/hmac/+/sha2-256"   { capabilities = ["update"] }
`
	// usePolicy is all that credential-process and the signing sinks need.
	usePolicy = `
path "transit/hmac/+/sha2-256"   { capabilities = ["update"] }
`
	// noHMACPolicy manages keys but may not use them.
	noHMACPolicy = `
path "transit/wrapping_key"      { capabilities = ["read"] }
path "transit/keys/+"            { capabilities = ["read", "delete"] }
path "transit/keys/+/import"     { capabilities = ["update"] }
`
)

// testVault is a real Vault core, unsealed, with transit at transit/ and AppRole at
// approle/, served over HTTP on a loopback port. Addr goes through a proxy that counts the
// requests each token makes.
type testVault struct {
	t      testing.TB
	core   *vault.Core
	Addr   string
	root   string
	client *api.Client

	mu       sync.Mutex
	requests map[string]int // token digest -> requests
}

func startVault(t testing.TB) *testVault {
	t.Helper()
	core, _, root := vault.TestCoreUnsealedWithConfig(t, &vault.CoreConfig{
		LogicalBackends:    map[string]logical.Factory{"transit": transit.Factory},
		CredentialBackends: map[string]logical.Factory{"approle": approle.Factory},
		// Vault's test logger writes every trace line; its errors are enough here.
		Logger: hclog.New(&hclog.LoggerOptions{Name: "vault", Level: hclog.Error, Output: os.Stderr}),
	})
	ln, addr := vaulthttp.TestServer(t, core)
	t.Cleanup(func() { ln.Close() })
	cfg := api.DefaultConfig()
	cfg.Address = addr
	cfg.MaxRetries = 0
	client, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	client.SetToken(root)
	client.SetNamespace("")
	if err := client.Sys().Mount("transit", &api.MountInput{Type: "transit"}); err != nil {
		t.Fatal(err)
	}
	if err := client.Sys().EnableAuthWithOptions("approle", &api.EnableAuthOptions{Type: "approle"}); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]string{"awskeep-admin": adminPolicy, "awskeep-use": usePolicy, "awskeep-nohmac": noHMACPolicy} {
		if err := client.Sys().PutPolicy(name, p); err != nil {
			t.Fatal(err)
		}
	}
	v := &testVault{t: t, core: core, root: root, client: client, requests: map[string]int{}}
	target, _ := url.Parse(addr)
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v.mu.Lock()
		v.requests[digest(r.Header.Get("X-Vault-Token"))]++
		v.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	v.Addr = srv.URL
	return v
}

func digest(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:8])
}

// Requests returns how many requests reached Vault with token.
func (v *testVault) Requests(token string) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.requests[digest(token)]
}

// Token creates a token with the named policies (and not Vault's default policy).
func (v *testVault) Token(policies ...string) string {
	v.t.Helper()
	s, err := v.client.Auth().Token().Create(&api.TokenCreateRequest{Policies: policies, TTL: "1h", NoDefaultPolicy: true})
	if err != nil {
		v.t.Fatal(err)
	}
	return s.Auth.ClientToken
}

// URI names key on this Vault.
func (v *testVault) URI(key string) string {
	return fmt.Sprintf("vault:key=%s?addr=%s&mount=transit", key, v.Addr)
}

var seq atomic.Int64

// newName returns a key name new across tests and runs.
func newName(prefix string) string {
	return fmt.Sprintf("aws-%s-%d-%s", prefix, seq.Add(1), rand.Text()[:8])
}

// material returns "AWS4" and a fresh 40-character secret.
func material() ([]byte, string) {
	secret := (rand.Text() + rand.Text())[:40]
	return []byte("AWS4" + secret), secret
}

func softHMAC(key, msg []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(msg)
	return h.Sum(nil)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// keyFor is the plugins.Key of name with token as PIN.
func (v *testVault) keyFor(name, token string) plugins.Key {
	return plugins.Key{URI: v.URI(name), PIN: token}
}
