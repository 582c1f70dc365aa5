package sim

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"sync"
	"time"

	"github.com/awskeep/awskeep/plugin-yubihsm/scp03"
	"github.com/awskeep/awskeep/plugin-yubihsm/yubihsm"
)

// Device limits of the YubiHSM 2.
const (
	// MaxSessions is the number of session slots (ids 0 to 15).
	MaxSessions = 16
	// SessionTimeout is how long an idle session lives.
	SessionTimeout = 30 * time.Second
	// MaxObjects is how many objects the device stores.
	MaxObjects = 256
	// DefaultPassword is the factory password of authentication key 1.
	DefaultPassword = "password"
	// FactoryAuthKeyLabel is the label of the factory authentication key.
	FactoryAuthKeyLabel = "DEFAULT AUTHKEY CHANGE THIS ASAP"
)

// Options configure a Device.
type Options struct {
	// Password is the password of the factory authentication key 1. Default "password".
	Password string
	// Now is the device's clock, which times idle sessions. Default time.Now.
	Now func() time.Time
	// Rand supplies card challenges, object ids and generated keys. Default crypto/rand.
	Rand io.Reader
	// Serial is the serial number DEVICE_INFO and the status page report.
	Serial uint32
	// CommandAudit lists commands logged from the start, as if an operator had turned on
	// command audit for them (SET_OPTION command-audit); a factory reset turns them off.
	CommandAudit []yubihsm.Command
	// ForceAudit turns force audit on from the start, likewise.
	ForceAudit bool
}

type objKey struct {
	typ yubihsm.ObjectType
	id  uint16
}

type object struct {
	id        uint16
	typ       yubihsm.ObjectType
	label     [yubihsm.LabelSize]byte
	domains   uint16
	caps      uint64
	delegated uint64
	alg       byte
	origin    byte
	seq       byte
	secret    []byte // HMAC key, or K-ENC || K-MAC
}

type session struct {
	id            byte
	authKey       uint16
	caps          uint64 // of the authentication key, when the session was opened
	delegated     uint64
	domains       uint16
	keys          scp03.SessionKeys
	ctx           scp03.Context
	ch            *scp03.Channel
	authenticated bool
	lastUsed      time.Time
}

// Device is a simulated YubiHSM 2. It is safe for concurrent use; like the real device it
// runs one command at a time.
type Device struct {
	mu       sync.Mutex
	now      func() time.Time
	rand     io.Reader
	serial   uint32
	objects  map[objKey]*object
	seqs     map[objKey]byte
	sessions [MaxSessions]*session
	faults   []Fault
	corrupt  int
	stats    Stats
	factory  object // authentication key 1 as shipped, for Reset
	audit    auditState
}

// Stats counts what a Device was sent, for tests.
type Stats struct {
	// Commands counts frames by command byte as they arrived, before any check.
	Commands map[yubihsm.Command]int
	// SessionCommands counts decrypted commands inside sessions.
	SessionCommands map[yubihsm.Command]int
	// Errors counts error codes sent, in clear or inside sessions.
	Errors map[yubihsm.ErrorCode]int
	// OpenSessions is the number of session slots in use now (created or authenticated).
	OpenSessions int
}

// New returns a factory-fresh device: authentication key 1 with the configured password,
// all capabilities and all domains, and nothing else.
func New(optFns ...func(*Options)) (*Device, error) {
	o := Options{Password: DefaultPassword, Now: time.Now, Rand: rand.Reader, Serial: 7550317}
	for _, fn := range optFns {
		fn(&o)
	}
	keys, err := scp03.DeriveStaticKeys(o.Password)
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	d := &Device{
		now: o.Now, rand: o.Rand, serial: o.Serial,
		stats: Stats{
			Commands:        map[yubihsm.Command]int{},
			SessionCommands: map[yubihsm.Command]int{},
			Errors:          map[yubihsm.ErrorCode]int{},
		},
	}
	auth := &object{
		id: 1, typ: yubihsm.TypeAuthenticationKey, domains: 0xffff,
		caps: uint64(yubihsm.CapAll), delegated: uint64(yubihsm.CapAll),
		alg: byte(yubihsm.AlgAES128YubicoAuthentication), origin: byte(yubihsm.OriginImported),
		secret: append(keys.Enc[:], keys.MAC[:]...),
	}
	copy(auth.label[:], FactoryAuthKeyLabel)
	d.factory = *auth
	d.Reset()
	for _, cmd := range o.CommandAudit {
		if !isAuditable(byte(cmd)) {
			return nil, fmt.Errorf("sim: command audit: %v cannot be logged", cmd)
		}
		d.audit.commands[byte(cmd)] = yubihsm.AuditOn
	}
	if o.ForceAudit {
		d.audit.force = yubihsm.AuditOn
	}
	return d, nil
}

// Reset returns the device to its factory state, as RESET_DEVICE does: every session and
// object is gone but authentication key 1, the audit options are off, and the log restarts
// with a reset entry and a boot entry. Counters and armed faults stay.
func (d *Device) Reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, o := range d.objects {
		clear(o.secret)
	}
	auth := d.factory
	auth.secret = append([]byte(nil), d.factory.secret...)
	d.objects = map[objKey]*object{{auth.typ, auth.id}: &auth}
	d.seqs = map[objKey]byte{}
	d.sessions = [MaxSessions]*session{}
	d.resetLog()
}

// Stats returns a copy of the device's counters.
func (d *Device) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reap()
	s := Stats{
		Commands:        maps.Clone(d.stats.Commands),
		SessionCommands: maps.Clone(d.stats.SessionCommands),
		Errors:          maps.Clone(d.stats.Errors),
	}
	for _, ss := range d.sessions {
		if ss != nil {
			s.OpenSessions++
		}
	}
	return s
}

// ExpireSessions drops every session at once, as 30 s of silence would.
func (d *Device) ExpireSessions() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sessions = [MaxSessions]*session{}
}

// reap frees the slots of sessions idle for longer than SessionTimeout.
func (d *Device) reap() {
	now := d.now()
	for i, s := range d.sessions {
		if s != nil && now.Sub(s.lastUsed) > SessionTimeout {
			d.sessions[i] = nil
		}
	}
}

// Transceive runs one command frame and returns the response frame, as the device would
// over USB. It never fails: errors are error frames (7f | 0001 | code).
func (d *Device) Transceive(frame []byte) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reap()
	if len(frame) > 0 {
		d.stats.Commands[yubihsm.Command(frame[0])]++
	}
	if len(frame) < 3 || len(frame) > scp03.MaxFrameSize || int(binary.BigEndian.Uint16(frame[1:3])) != len(frame)-3 {
		return d.fail(yubihsm.ErrWrongLength)
	}
	data := frame[3:]
	switch yubihsm.Command(frame[0]) {
	case yubihsm.CmdEcho:
		return reply(yubihsm.CmdEcho, data)
	case yubihsm.CmdDeviceInfo:
		return reply(yubihsm.CmdDeviceInfo, d.deviceInfo())
	case yubihsm.CmdCreateSession:
		return d.createSession(data)
	case yubihsm.CmdAuthenticateSession:
		return d.authenticateSession(frame)
	case yubihsm.CmdSessionMessage:
		return d.sessionMessage(frame)
	}
	return d.fail(yubihsm.ErrInvalidCommand)
}

func (d *Device) deviceInfo() []byte {
	b := []byte{2, 4, 0}
	b = binary.BigEndian.AppendUint32(b, d.serial)
	b = append(b, LogSize, byte(len(d.audit.entries)))
	return append(b, byte(yubihsm.AlgHMACSHA1), byte(yubihsm.AlgHMACSHA256), byte(yubihsm.AlgHMACSHA384),
		byte(yubihsm.AlgHMACSHA512), byte(yubihsm.AlgAES128YubicoAuthentication))
}

// reply builds a success frame: cmd|0x80 | len | data.
func reply(cmd yubihsm.Command, data []byte) []byte {
	f := []byte{byte(cmd | yubihsm.ResponseFlag), 0, 0}
	binary.BigEndian.PutUint16(f[1:], uint16(len(data)))
	return append(f, data...)
}

// fail builds an error frame and counts it.
func (d *Device) fail(code yubihsm.ErrorCode) []byte {
	d.stats.Errors[code]++
	return []byte{byte(yubihsm.CmdError), 0, 1, byte(code)}
}

// createSession runs CREATE_SESSION and logs it: no session key yet, the authentication
// key as target.
func (d *Device) createSession(data []byte) []byte {
	target := uint16(noKey)
	if len(data) >= 2 {
		target = binary.BigEndian.Uint16(data)
	}
	rsp := d.createSessionUnlogged(data)
	d.record(yubihsm.CmdCreateSession, len(data), noKey, target, noKey, rsp[0] != byte(yubihsm.CmdError))
	return rsp
}

func (d *Device) createSessionUnlogged(data []byte) []byte {
	if len(data) != 2+scp03.ChallengeSize {
		return d.fail(yubihsm.ErrWrongLength)
	}
	keyID := binary.BigEndian.Uint16(data)
	auth, ok := d.objects[objKey{yubihsm.TypeAuthenticationKey, keyID}]
	if !ok {
		return d.fail(yubihsm.ErrObjectNotFound)
	}
	slot := -1
	for i, s := range d.sessions {
		if s == nil {
			slot = i
			break
		}
	}
	if slot < 0 {
		return d.fail(yubihsm.ErrSessionsFull)
	}
	var host, card [scp03.ChallengeSize]byte
	copy(host[:], data[2:])
	if _, err := io.ReadFull(d.rand, card[:]); err != nil {
		return d.fail(yubihsm.ErrSessionFailed)
	}
	var static scp03.StaticKeys
	copy(static.Enc[:], auth.secret[:scp03.KeySize])
	copy(static.MAC[:], auth.secret[scp03.KeySize:])
	ctx := scp03.NewContext(host, card)
	s := &session{
		id: byte(slot), authKey: keyID, caps: auth.caps, delegated: auth.delegated, domains: auth.domains,
		keys: scp03.DeriveSessionKeys(static, ctx), ctx: ctx, lastUsed: d.now(),
	}
	s.ch = scp03.NewChannel(s.id, s.keys)
	d.sessions[slot] = s
	cryptogram := s.keys.CardCryptogram(ctx)
	out := append([]byte{s.id}, card[:]...)
	return reply(yubihsm.CmdCreateSession, append(out, cryptogram[:]...))
}

// authenticateSession runs AUTHENTICATE_SESSION and logs it like CREATE_SESSION.
func (d *Device) authenticateSession(frame []byte) []byte {
	target := uint16(noKey)
	if len(frame) > 3 && int(frame[3]) < MaxSessions && d.sessions[frame[3]] != nil {
		target = d.sessions[frame[3]].authKey
	}
	rsp := d.authenticateSessionUnlogged(frame)
	d.record(yubihsm.CmdAuthenticateSession, len(frame)-3, noKey, target, noKey, rsp[0] != byte(yubihsm.CmdError))
	return rsp
}

func (d *Device) authenticateSessionUnlogged(frame []byte) []byte {
	if len(frame) != 3+1+scp03.CryptogramSize+scp03.MACSize {
		return d.fail(yubihsm.ErrWrongLength)
	}
	sid := frame[3]
	if int(sid) >= MaxSessions || d.sessions[sid] == nil || d.sessions[sid].authenticated {
		return d.fail(yubihsm.ErrInvalidSession)
	}
	s := d.sessions[sid]
	if err := s.ch.VerifyAuthenticateSession(frame, s.keys.HostCryptogram(s.ctx)); err != nil {
		// A failed attempt costs the session, so guessing needs a new CREATE_SESSION each time.
		d.sessions[sid] = nil
		return d.fail(yubihsm.ErrAuthenticationFailed)
	}
	s.authenticated = true
	s.lastUsed = d.now()
	return reply(yubihsm.CmdAuthenticateSession, nil)
}

func (d *Device) sessionMessage(frame []byte) []byte {
	if len(frame) < 4 {
		return d.fail(yubihsm.ErrWrongLength)
	}
	sid := frame[3]
	if int(sid) >= MaxSessions || d.sessions[sid] == nil || !d.sessions[sid].authenticated {
		return d.fail(yubihsm.ErrInvalidSession)
	}
	s := d.sessions[sid]
	inner, err := s.ch.OpenCommand(frame)
	switch {
	case err == nil:
	case errors.Is(err, scp03.ErrPadding):
		// Authenticated but garbled inside: answered in the session.
		inner = nil
	case errors.Is(err, scp03.ErrMAC):
		// Whoever sent this does not hold the session keys, or lost step with the chain.
		return d.fail(yubihsm.ErrAuthenticationFailed)
	default:
		return d.fail(yubihsm.ErrInvalidData)
	}
	s.lastUsed = d.now()
	var rsp []byte
	closing := false
	if inner == nil {
		rsp = d.innerFail(yubihsm.ErrInvalidData)
	} else {
		rsp, closing = d.run(s, inner)
	}
	out, err := s.ch.SealResponse(rsp)
	if err != nil {
		return d.fail(yubihsm.ErrInvalidData) // unreachable with the commands served here
	}
	if closing {
		d.sessions[sid] = nil
	}
	if d.corrupt > 0 {
		d.corrupt--
		out[len(out)-1] ^= 0x01
	}
	return out
}
