package backend

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// errUnreachable marks a request that got no HTTP answer: refused, reset, timed out, bad TLS.
var errUnreachable = errors.New("no answer")

// newHTTPClient returns the client for one Vault address. caFile, if set, is $VAULT_CACERT:
// a PEM file of the CA certificates that replace the system's for https. Redirects are not
// followed: Vault redirects a standby's requests to the active node, and the token must not
// follow a Location header to another host.
func newHTTPClient(caFile string, timeout time.Duration) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // a proxy would see the token of an http:// Vault
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pemData, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("$VAULT_CACERT: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemData) {
			return nil, fmt.Errorf("$VAULT_CACERT %s: no PEM certificates", caFile)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}, nil
}

// call makes one request to Vault at ref.addr: method on /v1/path with the token (empty
// for a login) and ref's namespace, body as JSON when non-nil. It never retries: a wrong
// token costs exactly one request. The answer is decoded by decodeResponse.
func (b *Backend) call(ctx context.Context, ref keyRef, token, method, path string, body any, data any, auth **authInfo) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	hc, err := b.httpClient(ref.addr)
	if err != nil {
		return err
	}
	var rd io.Reader
	if body != nil {
		buf, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, method, ref.addr+"/v1/"+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("X-Vault-Token", token)
	}
	if ref.namespace != "" {
		req.Header.Set("X-Vault-Namespace", ref.namespace)
	}
	req.Header.Set("X-Vault-Request", "true")
	resp, err := hc.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		// *url.Error names method and URL, never headers: the token is not in it. Its text
		// only is kept: an http.Client timeout wraps context.DeadlineExceeded, which must
		// not pass for the caller's own deadline (ctx is still live here).
		return fmt.Errorf("%w: %v", errUnreachable, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return fmt.Errorf("%w: reading the answer: %v", errUnreachable, err)
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return &apiError{Status: resp.StatusCode, Errors: []string{"redirect to " + strings.SplitN(resp.Header.Get("Location"), "?", 2)[0] + " not followed: point addr= at the active node"}}
	}
	return decodeResponse(resp.StatusCode, raw, data, auth)
}

// httpClient returns the cached client for addr.
func (b *Backend) httpClient(addr string) (*http.Client, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if hc, ok := b.clients[addr]; ok {
		return hc, nil
	}
	hc, err := newHTTPClient(b.opts.Getenv("VAULT_CACERT"), b.opts.Timeout)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errUnreachable, err)
	}
	b.clients[addr] = hc
	return hc, nil
}
