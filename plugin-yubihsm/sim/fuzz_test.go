package sim

import (
	"encoding/binary"
	"testing"
)

// wellFormed reports whether rsp is a response frame: an error 7f | 0001 | code, or
// cmd|0x80 | len | data with the length right.
func wellFormed(rsp []byte) bool {
	if len(rsp) < 3 || int(binary.BigEndian.Uint16(rsp[1:3])) != len(rsp)-3 {
		return false
	}
	if rsp[0] == 0x7f {
		return len(rsp) == 4
	}
	return rsp[0]&0x80 != 0
}

// FuzzTransceive sends arbitrary frames to a device: it must not panic and must answer
// each with a well-formed frame.
func FuzzTransceive(f *testing.F) {
	for _, l := range loadTranscript(f) {
		if l.name == "command" {
			f.Add(unhex(f, l.hex))
		}
	}
	f.Add([]byte{})
	f.Add([]byte{0x06, 0x00, 0x00})
	f.Add([]byte{0x03, 0x00, 0x0a, 0x00, 0x01, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte{0x05, 0x00, 0x01, 0x00})
	d := newDevice(f)
	f.Fuzz(func(t *testing.T, frame []byte) {
		rsp := d.Transceive(frame)
		if !wellFormed(rsp) {
			t.Fatalf("frame %x: malformed response %x", frame, rsp)
		}
		d.ExpireSessions() // keep slots free for the next input
	})
}

// FuzzSessionCommand sends arbitrary inner commands through an authenticated session: the
// device must answer each inside the session with a well-formed inner frame, and the
// session must stay in step.
func FuzzSessionCommand(f *testing.F) {
	for _, l := range loadTranscript(f) {
		if l.name == "inner-command" {
			f.Add(unhex(f, l.hex))
		}
	}
	f.Add(frame(0x48, []byte{0x01, 0x00, 0x01, 0x02, 0x02}))
	f.Add(frame(0x48, []byte{0x06}, label("x")))
	f.Add(frame(0x5c, u16(0x10), make([]byte, 40)))
	f.Add(frame(0x44, specBytes(3, "a", 1, 0, 38), u64(0), make([]byte, 32)))
	f.Add(frame(0x5a, specBytes(0, "g", 1, 1<<22, 21)))
	f.Add(frame(0x58, u16(1), []byte{2}))
	f.Add([]byte{0x53})
	d := newDevice(f)
	f.Fuzz(func(t *testing.T, inner []byte) {
		s := openRaw(t, d, 1, DefaultPassword)
		// Every path frees the session: an input that returns early must not leave its
		// session behind, or 16 such inputs fill the device and the next one fails.
		defer d.Reset()
		sealed, err := s.ch.SealCommand(inner)
		if err != nil {
			return // does not fit a frame; the host cannot send it
		}
		out, err := s.ch.OpenResponse(d.Transceive(sealed))
		if err != nil {
			t.Fatalf("inner %x: response does not open: %v", inner, err)
		}
		if !wellFormed(out) {
			t.Fatalf("inner %x: malformed inner response %x", inner, out)
		}
		if out[0] != 0xc0 { // not closed: the chain must still be in step
			s.ok(0x01, []byte("after"))
		}
	})
}
