package yubihsm

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/awskeep/awskeep/plugin-yubihsm/scp03"
)

// SessionTimeout is how long the device keeps an idle session (YubiHSM 2 concepts: Session).
const SessionTimeout = 30 * time.Second

// Transport carries one command frame to the device and brings back its response frame.
// [*Connector] is the Transport for yubihsm-connector; tests may use others.
type Transport interface {
	Transceive(ctx context.Context, frame []byte) ([]byte, error)
}

// Options configure a Client.
type Options struct {
	// Now is the clock that times idle sessions. Default time.Now.
	Now func() time.Time
	// Rand supplies host challenges. Default crypto/rand.
	Rand io.Reader
	// IdleTimeout is how long a session may sit unused before the client stops trusting
	// it and opens a new one instead. Default 25 s, safely below the device's 30 s.
	IdleTimeout time.Duration
}

// Client runs commands in an authenticated session with one authentication key. It keeps
// the session between calls and serialises its use; it is safe for concurrent use.
type Client struct {
	t         Transport
	authKeyID uint16
	keys      scp03.StaticKeys
	now       func() time.Time
	rand      io.Reader
	idle      time.Duration

	sem  chan struct{} // one command at a time: a session's messages are chained
	sess *session
}

type session struct {
	ch       *scp03.Channel
	lastUsed time.Time
}

// NewClient returns a Client that authenticates with the authentication key authKeyID and
// the keys derived from password (PBKDF2, as yubihsm-shell does). Nothing is sent until the
// first command.
func NewClient(t Transport, authKeyID uint16, password string, optFns ...func(*Options)) (*Client, error) {
	keys, err := scp03.DeriveStaticKeys(password)
	if err != nil {
		return nil, fmt.Errorf("yubihsm: %w", err)
	}
	return NewClientWithKeys(t, authKeyID, keys, optFns...), nil
}

// NewClientWithKeys is NewClient for an authentication key given as raw K-ENC and K-MAC.
func NewClientWithKeys(t Transport, authKeyID uint16, keys scp03.StaticKeys, optFns ...func(*Options)) *Client {
	o := Options{Now: time.Now, Rand: rand.Reader, IdleTimeout: 25 * time.Second}
	for _, fn := range optFns {
		fn(&o)
	}
	return &Client{
		t: t, authKeyID: authKeyID, keys: keys, now: o.Now, rand: o.Rand, idle: o.IdleTimeout,
		sem: make(chan struct{}, 1),
	}
}

// AuthKeyID returns the authentication key the client uses.
func (c *Client) AuthKeyID() uint16 { return c.authKeyID }

func (c *Client) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case c.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Client) unlock() { <-c.sem }

// Open opens the session now, if none is open, instead of with the first command. It
// reports a wrong password early.
func (c *Client) Open(ctx context.Context) error {
	if err := c.lock(ctx); err != nil {
		return err
	}
	defer c.unlock()
	if c.sess != nil && c.now().Sub(c.sess.lastUsed) < c.idle {
		return nil
	}
	s, err := c.open(ctx)
	if err != nil {
		return err
	}
	c.sess = s
	return nil
}

// Close ends the session with CLOSE_SESSION, freeing its slot on the device. The Client
// stays usable: the next command opens a new session.
func (c *Client) Close(ctx context.Context) error {
	if err := c.lock(ctx); err != nil {
		return err
	}
	defer c.unlock()
	if c.sess == nil {
		return nil
	}
	s := c.sess
	c.sess = nil
	if c.now().Sub(s.lastUsed) >= SessionTimeout {
		return nil // the device has let it go already
	}
	_, _, err := c.exchange(ctx, s, CmdCloseSession, nil)
	if errors.Is(err, errSessionGone) {
		return nil
	}
	return err
}

// open runs CREATE_SESSION and AUTHENTICATE_SESSION. A card cryptogram that does not match
// means the password is wrong: the client stops there, before proving anything itself.
func (c *Client) open(ctx context.Context) (*session, error) {
	var host [scp03.ChallengeSize]byte
	if _, err := io.ReadFull(c.rand, host[:]); err != nil {
		return nil, fmt.Errorf("yubihsm: host challenge: %w", err)
	}
	req, _ := encodeFrame(CmdCreateSession, append([]byte{byte(c.authKeyID >> 8), byte(c.authKeyID)}, host[:]...))
	rsp, err := c.t.Transceive(ctx, req)
	if err != nil {
		return nil, err
	}
	data, err := ParseResponse(CmdCreateSession, rsp)
	var de *DeviceError
	switch {
	case errors.As(err, &de) && de.Code == ErrObjectNotFound:
		return nil, fmt.Errorf("yubihsm: create session with authentication key %#04x: %w", c.authKeyID, ErrAuthKeyNotFound)
	case errors.As(err, &de) && de.Code == ErrSessionsFull:
		return nil, fmt.Errorf("yubihsm: create session: all 16 sessions of the device are in use; they expire after 30 s idle: %w", err)
	case err != nil:
		return nil, err
	case len(data) != 1+scp03.ChallengeSize+scp03.CryptogramSize:
		return nil, fmt.Errorf("%w: CREATE_SESSION: %d bytes of data, want 17", ErrMalformed, len(data))
	}
	var card [scp03.ChallengeSize]byte
	var cardCrypto [scp03.CryptogramSize]byte
	copy(card[:], data[1:])
	copy(cardCrypto[:], data[1+scp03.ChallengeSize:])
	kctx := scp03.NewContext(host, card)
	keys := scp03.DeriveSessionKeys(c.keys, kctx)
	if !scp03.EqualCryptogram(keys.CardCryptogram(kctx), cardCrypto) {
		return nil, fmt.Errorf("yubihsm: authenticate with authentication key %#04x: the device's card cryptogram does not match the password: %w", c.authKeyID, ErrAuthentication)
	}
	ch := scp03.NewChannel(data[0], keys)
	rsp, err = c.t.Transceive(ctx, ch.AuthenticateSession(keys.HostCryptogram(kctx)))
	if err != nil {
		return nil, err
	}
	data, err = ParseResponse(CmdAuthenticateSession, rsp)
	switch {
	case errors.As(err, &de) && de.Code == ErrAuthenticationFailed:
		return nil, fmt.Errorf("yubihsm: authenticate with authentication key %#04x: %w", c.authKeyID, ErrAuthentication)
	case err != nil:
		return nil, err
	case len(data) != 0:
		return nil, fmt.Errorf("%w: AUTHENTICATE_SESSION: %d bytes of data, want none", ErrMalformed, len(data))
	}
	return &session{ch: ch, lastUsed: c.now()}, nil
}

// errSessionGone marks the clear-text INVALID_SESSION and AUTHENTICATION_FAILED answers to
// a SESSION_MESSAGE: the device does not know the session any more (expired, closed, or its
// slot reused), so the command did not run and may be sent again in a new session.
var errSessionGone = errors.New("session gone")

type sessionGoneError struct{ code ErrorCode }

func (e *sessionGoneError) Error() string {
	return fmt.Sprintf("yubihsm: the device dropped the session (%v)", e.code)
}

func (e *sessionGoneError) Is(target error) bool {
	return target == errSessionGone || target == ErrSessionLost
}

// do runs one command in the session, opening or re-opening it as needed: once when the
// device has dropped a session this client still held. Transport failures are not retried:
// the command may have run.
func (c *Client) do(ctx context.Context, cmd Command, data []byte) ([]byte, error) {
	if err := c.lock(ctx); err != nil {
		return nil, err
	}
	defer c.unlock()
	fresh := false
	if c.sess != nil && c.now().Sub(c.sess.lastUsed) >= c.idle {
		c.sess = nil // likely expired on the device; a new one costs less than a failed call
	}
	for {
		if c.sess == nil {
			s, err := c.open(ctx)
			if err != nil {
				return nil, err
			}
			c.sess, fresh = s, true
		}
		out, keep, err := c.exchange(ctx, c.sess, cmd, data)
		if keep {
			c.sess.lastUsed = c.now()
		} else {
			c.sess = nil
		}
		if errors.Is(err, errSessionGone) && !fresh {
			continue
		}
		return out, err
	}
}

// exchange sends one command in session s. keep reports whether s is still in step with the
// device.
func (c *Client) exchange(ctx context.Context, s *session, cmd Command, data []byte) (out []byte, keep bool, err error) {
	inner, err := encodeFrame(cmd, data)
	if err != nil {
		return nil, true, err
	}
	frame, err := s.ch.SealCommand(inner)
	if errors.Is(err, scp03.ErrTooLarge) {
		return nil, true, fmt.Errorf("%w: %v: %v", ErrTooLarge, cmd, err)
	} else if err != nil {
		return nil, false, fmt.Errorf("yubihsm: %v: %w", cmd, err)
	}
	rsp, err := c.t.Transceive(ctx, frame)
	if err != nil {
		return nil, false, err // the device may or may not have seen it
	}
	// Errors about the session itself come in clear (python-yubihsm checks this before the MAC).
	if len(rsp) > 0 && Command(rsp[0]) == CmdError {
		_, err := ParseResponse(CmdSessionMessage, rsp)
		var de *DeviceError
		if errors.As(err, &de) && (de.Code == ErrInvalidSession || de.Code == ErrAuthenticationFailed) {
			return nil, false, &sessionGoneError{de.Code}
		}
		if errors.As(err, &de) {
			de.Command = cmd
		}
		return nil, false, err
	}
	plain, err := s.ch.OpenResponse(rsp)
	switch {
	case errors.Is(err, scp03.ErrMAC):
		return nil, false, fmt.Errorf("%w (%v)", ErrResponseMAC, cmd)
	case err != nil:
		return nil, false, fmt.Errorf("%w: %v: %v", ErrMalformed, cmd, err)
	}
	out, err = ParseResponse(cmd, plain)
	return out, true, err
}
