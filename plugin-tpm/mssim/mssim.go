// Package mssim talks to a TPM simulator over TCP with the Microsoft TPM 2.0 reference
// simulator's protocol (TPMCmd/Simulator/include/TpmTcpProtocol.h), which swtpm also
// speaks on its --server type=tcp port.
//
// The awskeep TPM backend uses it for device=tcp://HOST:PORT key URIs. Unlike go-tpm's
// transport/tcp it reads whole responses (io.ReadFull), honours a context, and does not
// open the platform port: swtpm's control port speaks a different protocol, and a simulator
// that is powered on needs nothing from it for ordinary commands.
package mssim

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// tpmSendCommand is TPM_SEND_COMMAND in TpmTcpProtocol.h.
const tpmSendCommand = 8

// maxResponse bounds a response; TPM 2.0 responses are at most a few KiB (MAX_RESPONSE_SIZE
// is 4096 in the reference implementation).
const maxResponse = 1 << 16

// ErrTransport marks failures to reach or talk to the simulator, as opposed to TPM error
// codes in a response.
var ErrTransport = errors.New("TPM simulator connection failed")

// Conn is one connection to a simulator's command port. It is not safe for concurrent use:
// the simulator serves one client and one command at a time.
type Conn struct {
	conn net.Conn
	ctx  context.Context
	stop func() bool
}

// Dial connects to the command port at addr (host:port). ctx bounds the dial and every
// later Send: when it is done, a Send in progress fails and the connection is unusable.
func Dial(ctx context.Context, addr string) (*Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTransport, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	// Unblock reads and writes once ctx is done, deadline or not.
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	return &Conn{conn: c, ctx: ctx, stop: stop}, nil
}

// Send sends one TPM command and returns the TPM's response. The framing is
// TPM_SEND_COMMAND, locality, length, command; the reply is length, response, and a
// trailing 32-bit status that is 0 on success.
func (c *Conn) Send(cmd []byte) ([]byte, error) {
	if err := c.ctx.Err(); err != nil {
		return nil, err
	}
	req := make([]byte, 0, 9+len(cmd))
	req = binary.BigEndian.AppendUint32(req, tpmSendCommand)
	req = append(req, 0) // locality 0
	req = binary.BigEndian.AppendUint32(req, uint32(len(cmd)))
	req = append(req, cmd...)
	if _, err := c.conn.Write(req); err != nil {
		return nil, c.fail("send command", err)
	}
	rsp, err := readResponse(c.conn)
	if err != nil {
		return nil, c.fail("read response", err)
	}
	return rsp, nil
}

// errFraming marks a reply that breaks the protocol.
var errFraming = errors.New("malformed reply")

// readResponse reads one reply: a 32-bit length, the response, and a 32-bit status.
func readResponse(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > maxResponse {
		return nil, fmt.Errorf("%w: response of %d bytes is too long", errFraming, n)
	}
	rsp := make([]byte, n+4)
	if _, err := io.ReadFull(r, rsp); err != nil {
		return nil, err
	}
	if status := binary.BigEndian.Uint32(rsp[n:]); status != 0 {
		return nil, fmt.Errorf("%w: simulator status %d", errFraming, status)
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: empty response (is the simulator powered on?)", errFraming)
	}
	return rsp[:n:n], nil
}

func (c *Conn) fail(what string, err error) error {
	if ctxErr := c.ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s: %w", what, ctxErr)
	}
	return fmt.Errorf("%w: %s: %w", ErrTransport, what, err)
}

// Close closes the connection; the simulator then accepts its next client.
func (c *Conn) Close() error {
	c.stop()
	return c.conn.Close()
}
