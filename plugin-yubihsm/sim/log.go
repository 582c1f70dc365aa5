package sim

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"time"

	"github.com/awskeep/awskeep/plugin-yubihsm/yubihsm"
)

// The audit log, as the YubiHSM 2 user guide (Logging and Logs; Options) and the commands
// GET_LOG_ENTRIES, SET_LOG_INDEX, SET_OPTION and GET_OPTION describe it, and as
// python-yubihsm's tests (tests/device/test_logs.py) observe it on real devices:
//
//   - The Log Store holds LogSize entries. GET_LOG_ENTRIES returns those not yet released
//     with SET_LOG_INDEX, oldest first; DEVICE_INFO's "log used" counts them.
//   - Each entry is number (2) | command (1) | length of the command's data (2) | session's
//     authentication key (2) | target key (2) | second key (2) | result (1) | tick (4) |
//     digest (16); digest = SHA-256(the first 16 bytes || previous digest)[:16]. Numbers
//     count up by one (wrapping at 16 bits) across boots; a factory reset restarts them at 1
//     with a reset entry (every field 0xff), then a boot entry (command 0, session key
//     0xffff, everything else 0).
//   - result is the response's command byte: command|0x80 on success. A refused command is
//     logged with 0x7f (ERROR): Yubico does not publish what the device writes there.
//   - Which commands are logged: every command but ECHO, SESSION_MESSAGE, DEVICE_INFO and
//     GET_LOG_ENTRIES can be (python-yubihsm's ignored_cmds). Since firmware 2.3.1 none is
//     by default; OptionCommandAudit turns them on one by one, and force-audit logs them
//     all (the user guide: logging "can be turned on for all commands using the option
//     force-audit"). Boots and resets are always logged.
//   - Without force audit a full Log Store drops its oldest entry. With it, a command that
//     would be logged is refused with LOG_FULL and does not run while LogSize entries are
//     unreleased; CREATE_SESSION and AUTHENTICATE_SESSION still run and are counted as
//     unlogged authentications, boots as unlogged boots, and SET_LOG_INDEX runs (it frees
//     the space it is then logged in). The counters are reported by GET_LOG_ENTRIES; the
//     simulator clears them with SET_LOG_INDEX (Yubico does not say when the device does).
//   - tick is the device's system tick, restarting at 0 on each boot. Yubico does not give
//     its unit; the simulator counts milliseconds since its boot on its clock (Options.Now).
//   - The digest before a reset entry is not published (real devices show different reset
//     digests); the simulator chains the reset entry to the last digest it wrote, and a new
//     simulator starts from 16 random bytes.

// LogSize is the number of entries the Log Store holds.
const LogSize = yubihsm.LogSize

// logRec is one Log Store entry, encoded here independently of package yubihsm.
type logRec struct {
	number                          uint16
	cmd                             byte
	length, session, target, second uint16
	result                          byte
	tick                            uint32
	digest                          [16]byte
}

func (r *logRec) data() []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint16(b[0:], r.number)
	b[2] = r.cmd
	binary.BigEndian.PutUint16(b[3:], r.length)
	binary.BigEndian.PutUint16(b[5:], r.session)
	binary.BigEndian.PutUint16(b[7:], r.target)
	binary.BigEndian.PutUint16(b[9:], r.second)
	b[11] = r.result
	binary.BigEndian.PutUint32(b[12:], r.tick)
	return b
}

const (
	noKey      = 0xffff
	resultFail = byte(yubihsm.CmdError)
)

// auditState is the device's log and audit options.
type auditState struct {
	entries      []logRec // unreleased, oldest first
	next         uint16   // number of the next entry
	last         [16]byte // digest of the last entry written
	unloggedBoot uint16
	unloggedAuth uint16
	force        yubihsm.Audit
	commands     map[byte]yubihsm.Audit
	boot         time.Time
}

// auditable lists the commands OptionCommandAudit covers: every YubiHSM 2 command byte
// python-yubihsm's COMMAND knows but ECHO, SESSION_MESSAGE, DEVICE_INFO, GET_LOG_ENTRIES and
// ERROR, which are never logged.
var auditable = func() []byte {
	out := []byte{0x03, 0x04, 0x08, 0x0a}
	for c := byte(0x40); c <= 0x77; c++ {
		if c != byte(yubihsm.CmdGetLogEntries) {
			out = append(out, c)
		}
	}
	return out
}()

func isAuditable(cmd byte) bool {
	for _, c := range auditable {
		if c == cmd {
			return true
		}
	}
	return false
}

// resetLog empties the log and options as a factory reset does and writes the reset and
// boot entries.
func (d *Device) resetLog() {
	a := &d.audit
	if a.commands == nil {
		// A new device: no digest came before. Not from Options.Rand, whose stream tests
		// script for card challenges.
		rand.Read(a.last[:])
	}
	a.entries, a.next = nil, 1
	a.unloggedBoot, a.unloggedAuth = 0, 0
	a.force = yubihsm.AuditOff
	a.commands = map[byte]yubihsm.Audit{}
	d.appendLog(logRec{cmd: 0xff, length: noKey, session: noKey, target: noKey, second: noKey, result: 0xff, tick: 0xffffffff})
	d.bootLog()
}

// bootLog starts the tick count and logs a boot.
func (d *Device) bootLog() {
	d.audit.boot = d.now()
	if d.logBlocked() {
		d.audit.unloggedBoot++
		return
	}
	d.appendLog(logRec{cmd: byte(yubihsm.LogBoot), session: noKey})
}

// Reboot power-cycles the device: sessions are gone, objects, log and options stay, the tick
// restarts and a boot entry is logged.
func (d *Device) Reboot() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sessions = [MaxSessions]*session{}
	d.bootLog()
}

// logBlocked reports whether force audit is on and the Log Store full.
func (d *Device) logBlocked() bool {
	return d.audit.force != yubihsm.AuditOff && len(d.audit.entries) >= LogSize
}

// audited reports whether cmd is logged now.
func (d *Device) audited(cmd yubihsm.Command) bool {
	return isAuditable(byte(cmd)) && (d.audit.force != yubihsm.AuditOff || d.audit.commands[byte(cmd)] != yubihsm.AuditOff)
}

// refuseUnlogged reports whether cmd must be refused with LOG_FULL before it runs.
func (d *Device) refuseUnlogged(cmd yubihsm.Command) bool {
	switch cmd {
	case yubihsm.CmdCreateSession, yubihsm.CmdAuthenticateSession, yubihsm.CmdSetLogIndex:
		return false
	}
	return d.audited(cmd) && d.logBlocked()
}

// appendLog numbers, stamps, chains and stores r (tick already set for reset and boot
// entries), dropping the oldest entry of a full Log Store.
func (d *Device) appendLog(r logRec) {
	a := &d.audit
	r.number = a.next
	a.next++
	h := sha256.New()
	h.Write(r.data())
	h.Write(a.last[:])
	copy(r.digest[:], h.Sum(nil))
	a.last = r.digest
	if len(a.entries) >= LogSize {
		a.entries = append(a.entries[:0], a.entries[1:]...)
	}
	a.entries = append(a.entries, r)
}

// record logs a command that ran, if it is audited.
func (d *Device) record(cmd yubihsm.Command, length int, session, target, second uint16, ok bool) {
	if !d.audited(cmd) {
		return
	}
	if d.logBlocked() {
		// Only commands that may run unlogged get here: session set-up.
		d.audit.unloggedAuth++
		return
	}
	result := resultFail
	if ok {
		result = byte(cmd | yubihsm.ResponseFlag)
	}
	d.appendLog(logRec{
		cmd: byte(cmd), length: uint16(length), session: session, target: target, second: second,
		result: result, tick: uint32(d.now().Sub(d.audit.boot) / time.Millisecond),
	})
}

// logTargets names the objects a session command used, for its log entry: the object id of
// commands that take one first, or the id a creating command returned.
func logTargets(cmd yubihsm.Command, data, out []byte, ok bool) (target, second uint16) {
	switch cmd {
	case yubihsm.CmdPutHMACKey, yubihsm.CmdGenerateHMACKey, yubihsm.CmdPutAuthenticationKey:
		if ok && len(out) == 2 {
			return binary.BigEndian.Uint16(out), noKey
		}
		if len(data) >= 2 {
			return binary.BigEndian.Uint16(data), noKey
		}
	case yubihsm.CmdSignHMAC, yubihsm.CmdVerifyHMAC, yubihsm.CmdGetObjectInfo, yubihsm.CmdDeleteObject:
		if len(data) >= 2 {
			return binary.BigEndian.Uint16(data), noKey
		}
	}
	return noKey, noKey
}

// getLogEntries: GET_LOG_ENTRIES, nothing -> unlogged boots (2) | unlogged
// authentications (2) | count (1) | entries.
func (d *Device) getLogEntries(s *session, data []byte) ([]byte, yubihsm.ErrorCode) {
	if len(data) != 0 {
		return nil, yubihsm.ErrWrongLength
	}
	if s.caps&uint64(yubihsm.CapGetLogEntries) == 0 {
		return nil, yubihsm.ErrInsufficientPermissions
	}
	a := &d.audit
	b := binary.BigEndian.AppendUint16(nil, a.unloggedBoot)
	b = binary.BigEndian.AppendUint16(b, a.unloggedAuth)
	b = append(b, byte(len(a.entries)))
	for i := range a.entries {
		b = append(append(b, a.entries[i].data()...), a.entries[i].digest[:]...)
	}
	return b, yubihsm.ErrOK
}

// setLogIndex: SET_LOG_INDEX, number (2) -> nothing. Releases the entries up to and
// including number. A number that is not in the Log Store releases nothing if it is older
// than every entry there, and is invalid data if it is newer.
func (d *Device) setLogIndex(s *session, data []byte) ([]byte, yubihsm.ErrorCode) {
	if len(data) != 2 {
		return nil, yubihsm.ErrWrongLength
	}
	if s.caps&uint64(yubihsm.CapGetLogEntries) == 0 {
		return nil, yubihsm.ErrInsufficientPermissions
	}
	n := binary.BigEndian.Uint16(data)
	a := &d.audit
	for i, e := range a.entries {
		if e.number == n {
			a.entries = append(a.entries[:0], a.entries[i+1:]...)
			a.unloggedBoot, a.unloggedAuth = 0, 0
			return nil, yubihsm.ErrOK
		}
	}
	// Not stored: an entry released already is fine, one not yet written is not.
	if ahead := n - (a.next - 1); ahead >= 1 && ahead < 0x8000 {
		return nil, yubihsm.ErrInvalidData
	}
	return nil, yubihsm.ErrOK
}

// setOption: SET_OPTION, option (1) | length (2) | value -> nothing.
func (d *Device) setOption(s *session, data []byte) ([]byte, yubihsm.ErrorCode) {
	if len(data) < 3 || int(binary.BigEndian.Uint16(data[1:])) != len(data)-3 {
		return nil, yubihsm.ErrWrongLength
	}
	if s.caps&uint64(yubihsm.CapSetOption) == 0 {
		return nil, yubihsm.ErrInsufficientPermissions
	}
	v := data[3:]
	a := &d.audit
	switch yubihsm.Option(data[0]) {
	case yubihsm.OptionForceAudit:
		if len(v) != 1 || v[0] > byte(yubihsm.AuditFixed) {
			return nil, yubihsm.ErrInvalidData
		}
		if a.force == yubihsm.AuditFixed && yubihsm.Audit(v[0]) != yubihsm.AuditFixed {
			return nil, yubihsm.ErrInvalidData // fixed until a factory reset
		}
		a.force = yubihsm.Audit(v[0])
	case yubihsm.OptionCommandAudit:
		if len(v)%2 != 0 {
			return nil, yubihsm.ErrWrongLength
		}
		for i := 0; i < len(v); i += 2 {
			cmd, val := v[i], yubihsm.Audit(v[i+1])
			if !isAuditable(cmd) || val > yubihsm.AuditFixed ||
				a.commands[cmd] == yubihsm.AuditFixed && val != yubihsm.AuditFixed {
				return nil, yubihsm.ErrInvalidData
			}
		}
		for i := 0; i < len(v); i += 2 {
			a.commands[v[i]] = yubihsm.Audit(v[i+1])
		}
	default:
		return nil, yubihsm.ErrInvalidData
	}
	return nil, yubihsm.ErrOK
}

// getOption: GET_OPTION, option (1) -> value. OptionCommandAudit lists every auditable
// command with its setting, in command order.
func (d *Device) getOption(s *session, data []byte) ([]byte, yubihsm.ErrorCode) {
	if len(data) != 1 {
		return nil, yubihsm.ErrWrongLength
	}
	if s.caps&uint64(yubihsm.CapGetOption) == 0 {
		return nil, yubihsm.ErrInsufficientPermissions
	}
	switch yubihsm.Option(data[0]) {
	case yubihsm.OptionForceAudit:
		return []byte{byte(d.audit.force)}, yubihsm.ErrOK
	case yubihsm.OptionCommandAudit:
		var out []byte
		for _, c := range auditable {
			out = append(out, c, byte(d.audit.commands[c]))
		}
		return out, yubihsm.ErrOK
	}
	return nil, yubihsm.ErrInvalidData
}

// TamperLogEntry alters the stored entry with the given number as someone with access to
// the Log Store might: it changes its target key and leaves its digest. It reports whether
// the entry was there.
func (d *Device) TamperLogEntry(number uint16) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range d.audit.entries {
		if d.audit.entries[i].number == number {
			d.audit.entries[i].target ^= 0x0001
			return true
		}
	}
	return false
}
