package sim

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"hash"
	"io"
	"sort"

	"github.com/awskeep/awskeep/plugin-yubihsm/scp03"
	"github.com/awskeep/awskeep/plugin-yubihsm/yubihsm"
)

// The simulator decodes and encodes command data itself rather than with package yubihsm's
// helpers, so that a layout mistake there shows up as a disagreement in tests.

// specSize is id (2) | label (40) | domains (2) | capabilities (8) | algorithm (1).
const specSize = 2 + yubihsm.LabelSize + 2 + 8 + 1

// run executes one decrypted inner command of session s and returns the inner response
// frame, and whether the session ends with it.
func (d *Device) run(s *session, inner []byte) (rsp []byte, closing bool) {
	if len(inner) < 3 || int(binary.BigEndian.Uint16(inner[1:3])) != len(inner)-3 {
		return d.innerFail(yubihsm.ErrWrongLength), false
	}
	cmd, data := yubihsm.Command(inner[0]), inner[3:]
	d.stats.SessionCommands[cmd]++
	if d.refuseUnlogged(cmd) {
		// Force audit with a full Log Store: the command does not run.
		return d.innerFail(yubihsm.ErrLogFull), false
	}
	var code yubihsm.ErrorCode
	var out []byte
	switch cmd {
	case yubihsm.CmdEcho:
		out = data
	case yubihsm.CmdCloseSession:
		if len(data) != 0 {
			code = yubihsm.ErrWrongLength
			break
		}
		closing = true
	case yubihsm.CmdPutHMACKey:
		out, code = d.putHMACKey(s, data)
	case yubihsm.CmdGenerateHMACKey:
		out, code = d.generateHMACKey(s, data)
	case yubihsm.CmdSignHMAC:
		out, code = d.signHMAC(s, data)
	case yubihsm.CmdVerifyHMAC:
		out, code = d.verifyHMAC(s, data)
	case yubihsm.CmdGetObjectInfo:
		out, code = d.getObjectInfo(s, data)
	case yubihsm.CmdListObjects:
		out, code = d.listObjects(s, data)
	case yubihsm.CmdDeleteObject:
		out, code = d.deleteObject(s, data)
	case yubihsm.CmdPutAuthenticationKey:
		out, code = d.putAuthenticationKey(s, data)
	case yubihsm.CmdGetLogEntries:
		out, code = d.getLogEntries(s, data)
	case yubihsm.CmdSetLogIndex:
		out, code = d.setLogIndex(s, data)
	case yubihsm.CmdSetOption:
		out, code = d.setOption(s, data)
	case yubihsm.CmdGetOption:
		out, code = d.getOption(s, data)
	default:
		code = yubihsm.ErrInvalidCommand
	}
	target, second := logTargets(cmd, data, out, code == yubihsm.ErrOK)
	d.record(cmd, len(data), s.authKey, target, second, code == yubihsm.ErrOK)
	if code != yubihsm.ErrOK {
		return d.innerFail(code), false
	}
	return reply(cmd, out), closing
}

// innerFail is an error response inside the session (encrypted and R-MAC'd by the caller).
func (d *Device) innerFail(code yubihsm.ErrorCode) []byte {
	d.stats.Errors[code]++
	return []byte{byte(yubihsm.CmdError), 0, 1, byte(code)}
}

// lookup finds an object the session may see: it exists and shares a domain with the
// session's authentication key. Others do not exist as far as the session can tell.
func (d *Device) lookup(s *session, t yubihsm.ObjectType, id uint16) (*object, bool) {
	o, ok := d.objects[objKey{t, id}]
	if !ok || o.domains&s.domains == 0 {
		return nil, false
	}
	return o, true
}

// spec is the decoded header of an object-creating command.
type spec struct {
	id      uint16
	label   [yubihsm.LabelSize]byte
	domains uint16
	caps    uint64
	alg     byte
}

func parseSpec(b []byte) spec {
	var sp spec
	sp.id = binary.BigEndian.Uint16(b[0:2])
	copy(sp.label[:], b[2:42])
	sp.domains = binary.BigEndian.Uint16(b[42:44])
	sp.caps = binary.BigEndian.Uint64(b[44:52])
	sp.alg = b[52]
	return sp
}

// admit runs the checks every object-creating command shares once the session's right to
// run the command is settled: domains within the session's, capabilities within its delegated ones, and a
// free (type, id). It returns the id to use.
func (d *Device) admit(s *session, t yubihsm.ObjectType, sp spec, delegated uint64) (uint16, yubihsm.ErrorCode) {
	switch {
	case sp.domains == 0:
		return 0, yubihsm.ErrInvalidData
	case sp.domains&^s.domains != 0, sp.caps&^s.delegated != 0, delegated&^s.delegated != 0:
		return 0, yubihsm.ErrInsufficientPermissions
	case len(d.objects) >= MaxObjects:
		return 0, yubihsm.ErrStorageFailed
	}
	if sp.id == 0 {
		return d.freeID(t)
	}
	if _, ok := d.objects[objKey{t, sp.id}]; ok {
		return 0, yubihsm.ErrObjectExists
	}
	return sp.id, yubihsm.ErrOK
}

// freeID picks an unused id at random, as the device does for id 0.
func (d *Device) freeID(t yubihsm.ObjectType) (uint16, yubihsm.ErrorCode) {
	var b [2]byte
	for range 64 {
		if _, err := io.ReadFull(d.rand, b[:]); err != nil {
			break
		}
		id := binary.BigEndian.Uint16(b[:])
		if _, used := d.objects[objKey{t, id}]; id != 0 && !used {
			return id, yubihsm.ErrOK
		}
	}
	for id := uint16(1); id != 0; id++ {
		if _, used := d.objects[objKey{t, id}]; !used {
			return id, yubihsm.ErrOK
		}
	}
	return 0, yubihsm.ErrStorageFailed
}

func (d *Device) store(o *object) []byte {
	k := objKey{o.typ, o.id}
	o.seq = d.seqs[k]
	d.objects[k] = o
	return binary.BigEndian.AppendUint16(nil, o.id)
}

func hmacParams(alg byte) (newHash func() hash.Hash, maxKey int) {
	switch yubihsm.Algorithm(alg) {
	case yubihsm.AlgHMACSHA1:
		return sha1.New, 64
	case yubihsm.AlgHMACSHA256:
		return sha256.New, 64
	case yubihsm.AlgHMACSHA384:
		return sha512.New384, 128
	case yubihsm.AlgHMACSHA512:
		return sha512.New, 128
	}
	return nil, 0
}

// putHMACKey: PUT_HMAC_KEY, spec | key -> id.
func (d *Device) putHMACKey(s *session, data []byte) ([]byte, yubihsm.ErrorCode) {
	if len(data) < specSize+1 {
		return nil, yubihsm.ErrWrongLength
	}
	sp, key := parseSpec(data), data[specSize:]
	_, maxKey := hmacParams(sp.alg)
	if s.caps&uint64(yubihsm.CapPutHMACKey) == 0 {
		return nil, yubihsm.ErrInsufficientPermissions
	}
	if maxKey == 0 || len(key) > maxKey {
		return nil, yubihsm.ErrInvalidData
	}
	id, code := d.admit(s, yubihsm.TypeHMACKey, sp, 0)
	if code != yubihsm.ErrOK {
		return nil, code
	}
	return d.store(&object{
		id: id, typ: yubihsm.TypeHMACKey, label: sp.label, domains: sp.domains, caps: sp.caps,
		alg: sp.alg, origin: byte(yubihsm.OriginImported), secret: append([]byte(nil), key...),
	}), yubihsm.ErrOK
}

// generateHMACKey: GENERATE_HMAC_KEY, spec -> id; the key is as long as the hash output.
func (d *Device) generateHMACKey(s *session, data []byte) ([]byte, yubihsm.ErrorCode) {
	if len(data) != specSize {
		return nil, yubihsm.ErrWrongLength
	}
	sp := parseSpec(data)
	newHash, _ := hmacParams(sp.alg)
	if s.caps&uint64(yubihsm.CapGenerateHMACKey) == 0 {
		return nil, yubihsm.ErrInsufficientPermissions
	}
	if newHash == nil {
		return nil, yubihsm.ErrInvalidData
	}
	id, code := d.admit(s, yubihsm.TypeHMACKey, sp, 0)
	if code != yubihsm.ErrOK {
		return nil, code
	}
	key := make([]byte, newHash().Size())
	if _, err := io.ReadFull(d.rand, key); err != nil {
		return nil, yubihsm.ErrStorageFailed
	}
	return d.store(&object{
		id: id, typ: yubihsm.TypeHMACKey, label: sp.label, domains: sp.domains, caps: sp.caps,
		alg: sp.alg, origin: byte(yubihsm.OriginGenerated), secret: key,
	}), yubihsm.ErrOK
}

// useHMACKey finds the key of SIGN_HMAC or VERIFY_HMAC and checks that both the session and
// the key hold the capability.
func (d *Device) useHMACKey(s *session, id uint16, need yubihsm.Capabilities) (*object, yubihsm.ErrorCode) {
	o, ok := d.lookup(s, yubihsm.TypeHMACKey, id)
	if !ok {
		return nil, yubihsm.ErrObjectNotFound
	}
	if s.caps&uint64(need) == 0 || o.caps&uint64(need) == 0 {
		return nil, yubihsm.ErrInsufficientPermissions
	}
	return o, yubihsm.ErrOK
}

// signHMAC: SIGN_HMAC, id | data -> tag.
func (d *Device) signHMAC(s *session, data []byte) ([]byte, yubihsm.ErrorCode) {
	if len(data) < 2 {
		return nil, yubihsm.ErrWrongLength
	}
	o, code := d.useHMACKey(s, binary.BigEndian.Uint16(data), yubihsm.CapSignHMAC)
	if code != yubihsm.ErrOK {
		return nil, code
	}
	newHash, _ := hmacParams(o.alg)
	m := hmac.New(newHash, o.secret)
	m.Write(data[2:])
	return m.Sum(nil), yubihsm.ErrOK
}

// verifyHMAC: VERIFY_HMAC, id | tag | data -> 1 or 0.
func (d *Device) verifyHMAC(s *session, data []byte) ([]byte, yubihsm.ErrorCode) {
	if len(data) < 2 {
		return nil, yubihsm.ErrWrongLength
	}
	o, code := d.useHMACKey(s, binary.BigEndian.Uint16(data), yubihsm.CapVerifyHMAC)
	if code != yubihsm.ErrOK {
		return nil, code
	}
	newHash, _ := hmacParams(o.alg)
	m := hmac.New(newHash, o.secret)
	if len(data) < 2+m.Size() {
		return nil, yubihsm.ErrWrongLength
	}
	m.Write(data[2+m.Size():])
	return []byte{byte(subtle.ConstantTimeCompare(m.Sum(nil), data[2:2+m.Size()]))}, yubihsm.ErrOK
}

// getObjectInfo: GET_OBJECT_INFO, id | type -> capabilities (8) | id (2) | size (2) |
// domains (2) | type (1) | algorithm (1) | sequence (1) | origin (1) | label (40) |
// delegated capabilities (8).
func (d *Device) getObjectInfo(s *session, data []byte) ([]byte, yubihsm.ErrorCode) {
	if len(data) != 3 {
		return nil, yubihsm.ErrWrongLength
	}
	o, ok := d.lookup(s, yubihsm.ObjectType(data[2]), binary.BigEndian.Uint16(data))
	if !ok {
		return nil, yubihsm.ErrObjectNotFound
	}
	b := binary.BigEndian.AppendUint64(nil, o.caps)
	b = binary.BigEndian.AppendUint16(b, o.id)
	b = binary.BigEndian.AppendUint16(b, uint16(len(o.secret)))
	b = binary.BigEndian.AppendUint16(b, o.domains)
	b = append(b, byte(o.typ), o.alg, o.seq, o.origin)
	b = append(b, o.label[:]...)
	return binary.BigEndian.AppendUint64(b, o.delegated), yubihsm.ErrOK
}

// listObjects: LIST_OBJECTS, filters -> (id (2) | type (1) | sequence (1))*. Each filter is
// a tag and a fixed-size value; all must match.
func (d *Device) listObjects(s *session, data []byte) ([]byte, yubihsm.ErrorCode) {
	type filter func(*object) bool
	var filters []filter
	for len(data) > 0 {
		tag, rest := data[0], data[1:]
		size := map[byte]int{
			yubihsm.FilterTagID: 2, yubihsm.FilterTagType: 1, yubihsm.FilterTagDomains: 2,
			yubihsm.FilterTagCapabilities: 8, yubihsm.FilterTagAlgorithm: 1, yubihsm.FilterTagLabel: yubihsm.LabelSize,
		}[tag]
		if size == 0 {
			return nil, yubihsm.ErrInvalidData
		}
		if len(rest) < size {
			return nil, yubihsm.ErrWrongLength
		}
		v := rest[:size]
		data = rest[size:]
		switch tag {
		case yubihsm.FilterTagID:
			id := binary.BigEndian.Uint16(v)
			filters = append(filters, func(o *object) bool { return o.id == id })
		case yubihsm.FilterTagType:
			t := yubihsm.ObjectType(v[0])
			filters = append(filters, func(o *object) bool { return o.typ == t })
		case yubihsm.FilterTagDomains:
			dm := binary.BigEndian.Uint16(v)
			filters = append(filters, func(o *object) bool { return o.domains&dm != 0 })
		case yubihsm.FilterTagCapabilities:
			c := binary.BigEndian.Uint64(v)
			filters = append(filters, func(o *object) bool { return o.caps&c != 0 })
		case yubihsm.FilterTagAlgorithm:
			a := v[0]
			filters = append(filters, func(o *object) bool { return o.alg == a })
		case yubihsm.FilterTagLabel:
			var l [yubihsm.LabelSize]byte
			copy(l[:], v)
			filters = append(filters, func(o *object) bool { return o.label == l })
		}
	}
	var found []*object
next:
	for _, o := range d.objects {
		if o.domains&s.domains == 0 {
			continue
		}
		for _, f := range filters {
			if !f(o) {
				continue next
			}
		}
		found = append(found, o)
	}
	sort.Slice(found, func(i, j int) bool {
		if found[i].id != found[j].id {
			return found[i].id < found[j].id
		}
		return found[i].typ < found[j].typ
	})
	var out []byte
	for _, o := range found {
		out = binary.BigEndian.AppendUint16(out, o.id)
		out = append(out, byte(o.typ), o.seq)
	}
	return out, yubihsm.ErrOK
}

// deleteObject: DELETE_OBJECT, id | type. The session needs the delete capability of the
// object's type. The (type, id) sequence number moves on, as the device's does.
func (d *Device) deleteObject(s *session, data []byte) ([]byte, yubihsm.ErrorCode) {
	if len(data) != 3 {
		return nil, yubihsm.ErrWrongLength
	}
	t, id := yubihsm.ObjectType(data[2]), binary.BigEndian.Uint16(data)
	o, ok := d.lookup(s, t, id)
	if !ok {
		return nil, yubihsm.ErrObjectNotFound
	}
	need := yubihsm.DeleteCapability(t)
	if need == 0 || s.caps&uint64(need) == 0 {
		return nil, yubihsm.ErrInsufficientPermissions
	}
	k := objKey{t, id}
	clear(o.secret)
	delete(d.objects, k)
	d.seqs[k] = o.seq + 1
	return nil, yubihsm.ErrOK
}

// putAuthenticationKey: PUT_AUTHENTICATION_KEY, spec | delegated (8) | K-ENC (16) |
// K-MAC (16) -> id.
func (d *Device) putAuthenticationKey(s *session, data []byte) ([]byte, yubihsm.ErrorCode) {
	if len(data) != specSize+8+2*scp03.KeySize {
		return nil, yubihsm.ErrWrongLength
	}
	sp := parseSpec(data)
	delegated := binary.BigEndian.Uint64(data[specSize:])
	if s.caps&uint64(yubihsm.CapPutAuthenticationKey) == 0 {
		return nil, yubihsm.ErrInsufficientPermissions
	}
	if yubihsm.Algorithm(sp.alg) != yubihsm.AlgAES128YubicoAuthentication {
		return nil, yubihsm.ErrInvalidData
	}
	id, code := d.admit(s, yubihsm.TypeAuthenticationKey, sp, delegated)
	if code != yubihsm.ErrOK {
		return nil, code
	}
	return d.store(&object{
		id: id, typ: yubihsm.TypeAuthenticationKey, label: sp.label, domains: sp.domains, caps: sp.caps,
		delegated: delegated, alg: sp.alg, origin: byte(yubihsm.OriginImported),
		secret: append([]byte(nil), data[specSize+8:]...),
	}), yubihsm.ErrOK
}
