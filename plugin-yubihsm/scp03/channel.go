package scp03

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
)

// MaxFrameSize is the largest frame (command byte, length and data) the YubiHSM 2 accepts or
// sends.
const MaxFrameSize = 2048

// Frame command bytes of the secure channel (YubiHSM 2 command reference).
const (
	CmdAuthenticateSession byte = 0x04
	CmdSessionMessage      byte = 0x05
	// ResponseFlag is set in the command byte of every successful response.
	ResponseFlag byte = 0x80
)

// Errors of the secure channel. They carry no key material.
var (
	// ErrMAC reports a C-MAC or R-MAC that does not verify: the frame was altered, or the
	// two ends disagree about the session.
	ErrMAC = errors.New("scp03: MAC does not verify")
	// ErrFrame reports a frame that is not a well-formed secure-channel frame.
	ErrFrame = errors.New("scp03: malformed frame")
	// ErrTooLarge reports a message that does not fit one frame once encrypted.
	ErrTooLarge = errors.New("scp03: message too large for one frame")
	// ErrState reports a call out of protocol order, e.g. a response with no command.
	ErrState = errors.New("scp03: channel used out of order")
)

// Channel is the secure-messaging state of one session, as either end sees it: session
// keys, the encryption counter and the MAC chaining value. The host calls
// AuthenticateSession, then SealCommand and OpenResponse for each SESSION_MESSAGE; the
// device calls VerifyAuthenticateSession, then OpenCommand and SealResponse. A Channel is
// not safe for concurrent use; a session carries one message at a time anyway.
type Channel struct {
	id    byte
	keys  SessionKeys
	enc   cipher.Block
	ctr   uint64
	chain [aes.BlockSize]byte

	// State of the message in flight: the chaining value its C-MAC produced and the IV
	// that encrypts both the command and its response.
	inFlight bool
	pending  [aes.BlockSize]byte
	iv       [aes.BlockSize]byte
}

// NewChannel starts the channel of session id with keys; the MAC chain starts at zero.
func NewChannel(id byte, keys SessionKeys) *Channel {
	c, err := aes.NewCipher(keys.Enc[:])
	if err != nil {
		panic(err) // unreachable: S-ENC is always 16 bytes
	}
	return &Channel{id: id, keys: keys, enc: c}
}

// ID returns the session id.
func (c *Channel) ID() byte { return c.id }

// Counter returns the encryption counter of the next SESSION_MESSAGE (1 for the first).
func (c *Channel) Counter() uint64 { return c.ctr }

// AuthenticateSession builds the AUTHENTICATE_SESSION frame, 04 | 0011 | sid | host
// cryptogram | C-MAC, the first MAC of the chain (computed over a zero chaining value).
// The counter is set to 1 for the first SESSION_MESSAGE (GPC_SPE_014 section 6.2.6).
func (c *Channel) AuthenticateSession(hostCryptogram [CryptogramSize]byte) []byte {
	f := make([]byte, 0, 3+1+CryptogramSize+MACSize)
	f = append(f, CmdAuthenticateSession, 0, 1+CryptogramSize+MACSize, c.id)
	f = append(f, hostCryptogram[:]...)
	c.chain = [aes.BlockSize]byte{}
	mac := c.mac(c.keys.MAC, f)
	c.chain = mac
	c.ctr = 1
	return append(f, mac[:MACSize]...)
}

// VerifyAuthenticateSession is the device's check of an AUTHENTICATE_SESSION frame: layout,
// session id, host cryptogram (against want) and C-MAC. On success the chain and counter
// start as on the host.
func (c *Channel) VerifyAuthenticateSession(frame []byte, want [CryptogramSize]byte) error {
	const n = 3 + 1 + CryptogramSize + MACSize
	if len(frame) != n || frame[0] != CmdAuthenticateSession ||
		binary.BigEndian.Uint16(frame[1:3]) != n-3 || frame[3] != c.id {
		return ErrFrame
	}
	var zero [aes.BlockSize]byte
	mac := c.macWith(c.keys.MAC, zero, frame[:n-MACSize])
	okMAC := subtle.ConstantTimeCompare(mac[:MACSize], frame[n-MACSize:])
	okCrypto := subtle.ConstantTimeCompare(want[:], frame[4:4+CryptogramSize])
	if okMAC&okCrypto != 1 {
		return ErrMAC
	}
	c.chain = mac
	c.ctr = 1
	return nil
}

// SealCommand encrypts inner (a complete inner frame, e.g. 53 | len | id | data) and wraps
// it in a SESSION_MESSAGE frame: 05 | len | sid | AES-CBC(S-ENC, IV, pad(inner)) | C-MAC,
// with IV = AES-ECB(S-ENC, counter). The chain advances only when OpenResponse accepts the
// reply.
func (c *Channel) SealCommand(inner []byte) ([]byte, error) {
	if c.ctr == 0 {
		return nil, ErrState
	}
	iv := c.counterIV()
	f, err := c.seal(CmdSessionMessage, iv, inner)
	if err != nil {
		return nil, err
	}
	mac := c.mac(c.keys.MAC, f)
	c.pending, c.iv, c.inFlight = mac, iv, true
	return append(f, mac[:MACSize]...), nil
}

// OpenResponse checks a SESSION_MESSAGE response (85 | len | sid | ciphertext | R-MAC) to the
// last sealed command, verifying the R-MAC, computed with S-RMAC over the new chaining value
// and the frame, and decrypts it with the command's IV. It returns the inner response frame.
// After an error the channel is unusable: the caller must open a new session.
func (c *Channel) OpenResponse(frame []byte) ([]byte, error) {
	if !c.inFlight {
		return nil, ErrState
	}
	body, err := c.split(CmdSessionMessage|ResponseFlag, frame)
	if err != nil {
		return nil, err
	}
	mac := c.macWith(c.keys.RMAC, c.pending, frame[:len(frame)-MACSize])
	if subtle.ConstantTimeCompare(mac[:MACSize], frame[len(frame)-MACSize:]) != 1 {
		return nil, ErrMAC
	}
	inner, err := c.decrypt(c.iv, body)
	if err != nil {
		return nil, err
	}
	c.chain, c.ctr, c.inFlight = c.pending, c.ctr+1, false
	return inner, nil
}

// OpenCommand is the device's half of SealCommand: it verifies the C-MAC against the chain
// and, if it holds, advances the chain and counter and decrypts. A frame whose MAC fails
// leaves the channel as it was (ErrMAC). A frame that authenticates but decrypts to bad
// padding returns ErrPadding with the state advanced, so the device answers it through
// SealResponse.
func (c *Channel) OpenCommand(frame []byte) ([]byte, error) {
	if c.ctr == 0 {
		return nil, ErrState
	}
	body, err := c.split(CmdSessionMessage, frame)
	if err != nil {
		return nil, err
	}
	mac := c.mac(c.keys.MAC, frame[:len(frame)-MACSize])
	if subtle.ConstantTimeCompare(mac[:MACSize], frame[len(frame)-MACSize:]) != 1 {
		return nil, ErrMAC
	}
	iv := c.counterIV()
	c.chain, c.iv, c.ctr, c.inFlight = mac, iv, c.ctr+1, true
	return c.decrypt(iv, body)
}

// SealResponse encrypts the inner response with the command's IV and appends the R-MAC:
// CMAC(S-RMAC, chain || 85 | len | sid | ciphertext), truncated to 8 bytes.
func (c *Channel) SealResponse(inner []byte) ([]byte, error) {
	if !c.inFlight {
		return nil, ErrState
	}
	f, err := c.seal(CmdSessionMessage|ResponseFlag, c.iv, inner)
	if err != nil {
		return nil, err
	}
	c.inFlight = false
	mac := c.mac(c.keys.RMAC, f)
	return append(f, mac[:MACSize]...), nil
}

// seal builds cmd | len | sid | AES-CBC(S-ENC, iv, pad(inner)), with len counting the MAC
// still to be appended.
func (c *Channel) seal(cmd byte, iv [aes.BlockSize]byte, inner []byte) ([]byte, error) {
	padded := Pad(inner)
	n := 3 + 1 + len(padded) + MACSize
	if n > MaxFrameSize {
		return nil, fmt.Errorf("%w: %d bytes encrypted, the limit is %d", ErrTooLarge, n, MaxFrameSize)
	}
	f := make([]byte, 4, n)
	f[0] = cmd
	binary.BigEndian.PutUint16(f[1:3], uint16(n-3))
	f[3] = c.id
	cipher.NewCBCEncrypter(c.enc, iv[:]).CryptBlocks(padded, padded)
	return append(f, padded...), nil
}

// split checks the layout of a SESSION_MESSAGE frame and returns its ciphertext.
func (c *Channel) split(cmd byte, frame []byte) ([]byte, error) {
	const overhead = 3 + 1 + MACSize
	if len(frame) < overhead+aes.BlockSize || len(frame) > MaxFrameSize || frame[0] != cmd ||
		int(binary.BigEndian.Uint16(frame[1:3])) != len(frame)-3 {
		return nil, ErrFrame
	}
	if frame[3] != c.id {
		return nil, fmt.Errorf("%w: session id %d, expected %d", ErrFrame, frame[3], c.id)
	}
	body := frame[4 : len(frame)-MACSize]
	if len(body)%aes.BlockSize != 0 {
		return nil, ErrFrame
	}
	return body, nil
}

func (c *Channel) decrypt(iv [aes.BlockSize]byte, body []byte) ([]byte, error) {
	plain := make([]byte, len(body))
	cipher.NewCBCDecrypter(c.enc, iv[:]).CryptBlocks(plain, body)
	return Unpad(plain)
}

// counterIV is AES-ECB(S-ENC, counter as a 16-byte big-endian number).
func (c *Channel) counterIV() [aes.BlockSize]byte {
	var iv [aes.BlockSize]byte
	binary.BigEndian.PutUint64(iv[8:], c.ctr)
	c.enc.Encrypt(iv[:], iv[:])
	return iv
}

func (c *Channel) mac(key [KeySize]byte, data []byte) [aes.BlockSize]byte {
	return c.macWith(key, c.chain, data)
}

// macWith is CMAC(key, chain || data), the full 16 bytes; frames carry the first 8.
func (c *Channel) macWith(key [KeySize]byte, chain [aes.BlockSize]byte, data []byte) [aes.BlockSize]byte {
	h, err := NewCMAC(key[:])
	if err != nil {
		panic(err) // unreachable: 16-byte key
	}
	h.Write(chain[:])
	h.Write(data)
	var out [aes.BlockSize]byte
	h.Sum(out[:0])
	return out
}
