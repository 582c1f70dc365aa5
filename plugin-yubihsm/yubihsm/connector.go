package yubihsm

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultConnectorURL is where yubihsm-connector listens unless told otherwise.
const DefaultConnectorURL = "http://127.0.0.1:12345"

// ConnectorOptions configure a Connector.
type ConnectorOptions struct {
	// HTTPClient sends the requests. Default: a client with Timeout and no proxy, since the
	// connector is normally on this host.
	HTTPClient *http.Client
	// Timeout bounds each HTTP exchange when HTTPClient is nil. Default 10 s; the context
	// of each call may cut it shorter.
	Timeout time.Duration
}

// Connector is the HTTP link to one yubihsm-connector, and so to one device. It lets one
// request through at a time: the device handles one command at a time, and the sessions on
// it depend on the order of their messages. It is safe for concurrent use.
type Connector struct {
	base   string
	api    string
	status string
	http   *http.Client
	sem    chan struct{}
}

// NewConnector returns a Connector for the connector at rawURL (see ParseConnectorURL).
func NewConnector(rawURL string, optFns ...func(*ConnectorOptions)) (*Connector, error) {
	o := ConnectorOptions{Timeout: 10 * time.Second}
	for _, fn := range optFns {
		fn(&o)
	}
	base, err := ParseConnectorURL(rawURL)
	if err != nil {
		return nil, err
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{
			Timeout:   o.Timeout,
			Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 2, IdleConnTimeout: 30 * time.Second},
		}
	}
	return &Connector{
		base: base, api: base + "/connector/api", status: base + "/connector/status",
		http: hc, sem: make(chan struct{}, 1),
	}, nil
}

// ParseConnectorURL checks a connector URL such as "http://127.0.0.1:12345" and returns its
// canonical base. A trailing "/connector/api" or "/connector/status" is accepted and dropped;
// any other path is kept as a prefix (a connector behind a reverse proxy).
func ParseConnectorURL(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("yubihsm: connector URL %q is not an http:// or https:// URL such as %s", truncate(rawURL), DefaultConnectorURL)
	}
	if u.User != nil {
		return "", fmt.Errorf("yubihsm: connector URL must not carry credentials")
	}
	path := strings.TrimRight(u.Path, "/")
	path = strings.TrimSuffix(strings.TrimSuffix(path, "/connector/api"), "/connector/status")
	return u.Scheme + "://" + u.Host + path, nil
}

// URL returns the connector's base URL.
func (c *Connector) URL() string { return c.base }

func (c *Connector) acquire(ctx context.Context) error {
	select {
	case c.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Connector) release() { <-c.sem }

// Transceive sends one command frame to the device and returns its response frame, as is.
// Transport failures and HTTP errors are [*ConnectorError].
func (c *Connector) Transceive(ctx context.Context, frame []byte) ([]byte, error) {
	if err := c.acquire(ctx); err != nil {
		return nil, err
	}
	defer c.release()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.api, bytes.NewReader(frame))
	if err != nil {
		return nil, &ConnectorError{URL: c.api, Err: err}
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	body, err := c.do(req)
	if err != nil {
		return nil, err
	}
	if len(body) > MaxFrameSize {
		return nil, fmt.Errorf("%w: %d-byte response frame", ErrMalformed, len(body))
	}
	return body, nil
}

func (c *Connector) do(req *http.Request) ([]byte, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		if ctxErr := req.Context().Err(); ctxErr != nil {
			return nil, fmt.Errorf("yubihsm: connector %s: %w", req.URL, ctxErr)
		}
		return nil, &ConnectorError{URL: req.URL.String(), Err: err}
	}
	defer resp.Body.Close()
	// One byte more than any frame, so an oversized reply is seen rather than cut.
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxFrameSize+1))
	if resp.StatusCode != http.StatusOK {
		return nil, &ConnectorError{URL: req.URL.String(), StatusCode: resp.StatusCode}
	}
	if err != nil {
		if ctxErr := req.Context().Err(); ctxErr != nil {
			return nil, fmt.Errorf("yubihsm: connector %s: %w", req.URL, ctxErr)
		}
		return nil, &ConnectorError{URL: req.URL.String(), Err: err}
	}
	return body, nil
}

// ConnectorStatus is what GET /connector/status reports.
type ConnectorStatus struct {
	// Status is "OK" when the connector has a device, "NO_DEVICE" otherwise.
	Status string
	// Serial is the device's serial number as the connector prints it ("*" for any).
	Serial string
	// Version is the connector's version.
	Version string
	// Fields holds every key=value line, including the ones above.
	Fields map[string]string
}

// Status asks the connector whether it has a device. It does not open a session.
func (c *Connector) Status(ctx context.Context) (ConnectorStatus, error) {
	if err := c.acquire(ctx); err != nil {
		return ConnectorStatus{}, err
	}
	defer c.release()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.status, nil)
	if err != nil {
		return ConnectorStatus{}, &ConnectorError{URL: c.status, Err: err}
	}
	body, err := c.do(req)
	if err != nil {
		return ConnectorStatus{}, err
	}
	return ParseStatus(body)
}

// ParseStatus parses the connector's status page: "key=value" lines, of which status= must
// be present.
func ParseStatus(b []byte) (ConnectorStatus, error) {
	st := ConnectorStatus{Fields: map[string]string{}}
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return ConnectorStatus{}, fmt.Errorf("%w: connector status line %q is not key=value", ErrMalformed, truncate(line))
		}
		st.Fields[k] = v
	}
	if err := s.Err(); err != nil {
		return ConnectorStatus{}, fmt.Errorf("%w: connector status: %v", ErrMalformed, err)
	}
	var ok bool
	if st.Status, ok = st.Fields["status"]; !ok {
		return ConnectorStatus{}, fmt.Errorf("%w: connector status has no status= line", ErrMalformed)
	}
	st.Serial, st.Version = st.Fields["serial"], st.Fields["version"]
	return st, nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
