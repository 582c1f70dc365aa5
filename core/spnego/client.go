package spnego

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"

	"github.com/jcmturner/gokrb5/v8/messages"
	gspnego "github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"
	"golang.org/x/sync/singleflight"
)

// Client returns an *http.Client whose requests to hosts answering 401 with
// "WWW-Authenticate: Negotiate" are sent again with "Authorization: Negotiate <token>", a
// SPNEGO NegTokenInit holding a Kerberos AP-REQ (RFC 4559 section 4) for the host's service
// principal. Hosts that do not ask never see a token.
//
// Client checks the credentials before it returns: the ticket cache must hold an unexpired
// ticket-granting ticket (else ErrNoTicket, ErrTicketExpired or ErrUnsupportedCCache), or
// the keytab login must succeed (else ErrKeytab, ErrKDCUnreachable or ErrKDCRefused). When
// the ticket expires later, the next request reads the cache again (or logs in from the
// keytab again). A second 401 to the request that carried the token fails the request with a
// *RejectedError (ErrRejected).
//
// KDC exchanges use gokrb5's network code, which takes no context: each KDC attempt is
// bounded by its 5 s dial and I/O timeouts. The client is safe for concurrent use; concurrent
// requests for the same service share one ticket request.
func Client(opts Options) (*http.Client, error) {
	opts.setDefaults()
	conf, err := loadConfig(&opts)
	if err != nil {
		return nil, err
	}
	var l login
	if opts.Keytab != "" {
		if l, err = keytabLogin(conf, opts.Keytab, opts.Principal); err != nil {
			return nil, opts.keytabError(err)
		}
	} else {
		l = ccacheLogin(conf, resolveCCache(&opts, conf), opts.Now)
	}
	s := &sessions{login: l, now: opts.Now}
	if _, err := s.get(); err != nil {
		return nil, err
	}
	var hc http.Client
	if opts.HTTPClient != nil {
		hc = *opts.HTTPClient
	}
	if hc.Jar == nil {
		hc.Jar, _ = cookiejar.New(nil) // never fails with nil options
	}
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	hc.Transport = &transport{next: next, sessions: s, spn: opts.SPN, conf: conf}
	return &hc, nil
}

// transport answers Negotiate challenges.
type transport struct {
	next     http.RoundTripper
	sessions *sessions
	spn      string
	conf     *krb5Conf
	tickets  singleflight.Group // by client principal and SPN
}

type serviceTicket struct {
	tkt messages.Ticket
	key types.EncryptionKey
}

// RoundTrip sends req; when the answer is 401 Negotiate it sends req again with a token.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !asksNegotiate(resp.Header) ||
		req.Header.Get("Authorization") != "" {
		return resp, err
	}
	drain(resp)
	retry := req.Clone(req.Context())
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return nil, fmt.Errorf("spnego: %s asks for Kerberos (Negotiate) after the request body was sent: %w; "+
				"build the request with a bytes or strings reader, or set GetBody", redact(req), ErrBodyNotReplayable)
		}
		if retry.Body, err = req.GetBody(); err != nil {
			return nil, fmt.Errorf("spnego: %s: get the body again: %w", redact(req), err)
		}
	}
	spn := t.spn
	if spn == "" {
		spn = "HTTP/" + strings.ToLower(strings.TrimSuffix(req.URL.Hostname(), "."))
	}
	token, s, err := t.token(req, spn)
	if err != nil {
		if retry.Body != nil {
			retry.Body.Close()
		}
		return nil, err
	}
	retry.Header.Set("Authorization", "Negotiate "+token)
	resp, err = t.next.RoundTrip(retry)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		drain(resp)
		// The service ticket stays in the session's cache: the next request starts a fresh
		// session, in case the server's key changed since the ticket was issued.
		t.sessions.drop(s)
		return nil, &RejectedError{URL: redact(req), SPN: spn, Principal: s.principal, StatusCode: resp.StatusCode}
	}
	return resp, nil
}

// token builds the SPNEGO NegTokenInit for spn, base64-encoded for the header.
func (t *transport) token(req *http.Request, spn string) (string, *session, error) {
	if err := req.Context().Err(); err != nil {
		return "", nil, err
	}
	s, err := t.sessions.get()
	if err != nil {
		return "", nil, err
	}
	// Concurrent requests share one TGS exchange per SPN: MIT's KDC listens with a backlog of
	// 5, and a burst of connections waits for SYN retransmits.
	v, err, _ := t.tickets.Do(s.principal+" "+spn, func() (any, error) {
		tkt, key, err := s.cl.GetServiceTicket(spn)
		return serviceTicket{tkt, key}, err
	})
	if err != nil {
		return "", s, &KDCError{Kind: classify(err), Op: "get a ticket for " + spn + " (" + s.principal + ")",
			Realm: s.realm, KDCs: t.conf.kdcs(s.realm), Krb5Conf: t.conf.path, Err: err}
	}
	st := v.(serviceTicket)
	init, err := gspnego.NewNegTokenInitKRB5(s.cl, st.tkt, st.key)
	if err != nil {
		return "", s, fmt.Errorf("spnego: build the token for %s: %w", spn, err)
	}
	tok := gspnego.SPNEGOToken{Init: true, NegTokenInit: init}
	b, err := tok.Marshal()
	if err != nil {
		return "", s, fmt.Errorf("spnego: encode the token for %s: %w", spn, err)
	}
	return base64.StdEncoding.EncodeToString(b), s, nil
}

// CloseIdleConnections passes http.Client.CloseIdleConnections on to the wrapped transport.
func (t *transport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// asksNegotiate reports whether a WWW-Authenticate header offers the Negotiate scheme
// (RFC 4559 section 4.1); a server may offer several schemes, in one header or several.
func asksNegotiate(h http.Header) bool {
	for _, v := range h.Values("WWW-Authenticate") {
		for _, challenge := range strings.Split(v, ",") {
			if f := strings.Fields(challenge); len(f) > 0 && strings.EqualFold(f[0], "Negotiate") {
				return true
			}
		}
	}
	return false
}

// drain reads a little of an unwanted body, so the connection can be reused, and closes it.
func drain(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	resp.Body.Close()
}

// redact names a request in errors without its query, which may carry a SAML relay state or
// a session token.
func redact(req *http.Request) string {
	u := *req.URL
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u.String()
}
