package yubihsm

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

// Fuzz targets for every parser of what the device or connector sends back.

func FuzzParseResponse(f *testing.F) {
	ex, _ := loadTranscript(f)
	for _, e := range ex {
		f.Add(byte(e.request[0]), e.response)
	}
	f.Add(byte(0x53), []byte{0x7f, 0, 1, 0x0b})
	f.Add(byte(0x53), []byte{0xd3, 0, 0})
	f.Add(byte(0x01), []byte{})
	f.Fuzz(func(t *testing.T, cmd byte, frame []byte) {
		data, err := ParseResponse(Command(cmd), frame)
		if err != nil {
			var de *DeviceError
			if !errors.Is(err, ErrMalformed) && !errors.As(err, &de) {
				t.Fatalf("error of unknown kind: %v", err)
			}
			return
		}
		if frame[0] != cmd|0x80 || !bytes.Equal(data, frame[3:]) {
			t.Fatalf("accepted %x for command %#x", frame, cmd)
		}
	})
}

func FuzzParseObjectInfo(f *testing.F) {
	f.Add(ObjectInfo{ID: 1, Label: "x", Type: TypeHMACKey}.Marshal())
	f.Add(make([]byte, ObjectInfoSize-1))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := ParseObjectInfo(b)
		if err != nil {
			return
		}
		// Marshal writes the label back zero-padded; everything else round-trips exactly.
		again, err := ParseObjectInfo(info.Marshal())
		if err != nil || again != info {
			t.Fatalf("round trip: %+v -> %+v, %v", info, again, err)
		}
	})
}

func FuzzParseObjectList(f *testing.F) {
	f.Add([]byte("\x00\x01\x02\x00d\x8f\x03\x00"))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		refs, err := ParseObjectList(b)
		if err == nil && len(refs)*4 != len(b) {
			t.Fatalf("%d refs from %d bytes", len(refs), len(b))
		}
	})
}

func FuzzParseStatus(f *testing.F) {
	f.Add([]byte("status=OK\nserial=*\nversion=3.0.4\npid=1\naddress=localhost\nport=12345\n"))
	f.Add([]byte("status=NO_DEVICE\r\n"))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := ParseStatus(b)
		if err == nil && st.Fields["status"] != st.Status {
			t.Fatalf("status %q, fields %v", st.Status, st.Fields)
		}
	})
}

func FuzzParseDeviceInfo(f *testing.F) {
	f.Add([]byte("\x02\x00\x00\x00s5m>>\x01\x02\x03"))
	f.Add([]byte{2, 4, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := ParseDeviceInfo(b)
		if err == nil && len(info.Algorithms) != len(b)-9 {
			t.Fatalf("%d algorithms from %d bytes", len(info.Algorithms), len(b))
		}
	})
}

// FuzzSessionResponse answers the client's first SESSION_MESSAGE with arbitrary bytes: the
// client must not panic, and must accept nothing but the genuine reply.
func FuzzSessionResponse(f *testing.F) {
	ex, _ := loadTranscript(f)
	for _, e := range ex[2:] {
		f.Add(e.response)
	}
	f.Add([]byte{0x7f, 0, 1, 0x03})
	f.Add([]byte{0x7f, 0, 1, 0x04})
	f.Add([]byte{0x85, 0, 0})
	f.Fuzz(func(t *testing.T, reply []byte) {
		tr := scripted(func(frame []byte) ([]byte, error) {
			switch frame[0] {
			case 0x03:
				return ex[0].response, nil
			case 0x04:
				return ex[1].response, nil
			}
			return reply, nil
		})
		c := NewClientWithKeys(tr, 1, transcriptKeys, withZeroChallenge)
		got, err := c.Echo(context.Background(), []byte("abc"))
		if err == nil && (!bytes.Equal(reply, ex[2].response) || string(got) != "abc") {
			t.Fatalf("accepted %x as the reply to ECHO", reply)
		}
	})
}

func FuzzParseLogEntries(f *testing.F) {
	var l LogEntries
	for _, lines := range publishedLogs {
		for _, line := range lines {
			e := LogEntry{Number: line.number, Command: line.cmd, Length: line.length, SessionKey: line.session,
				TargetKey: line.target, SecondKey: line.second, Result: line.result, Tick: line.tick}
			l.Entries = append(l.Entries, e)
		}
	}
	f.Add(l.Marshal())
	f.Add([]byte{0, 1, 0, 2, 0})
	f.Add([]byte{0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseLogEntries(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error of unknown kind: %v", err)
			}
			return
		}
		if !bytes.Equal(l.Marshal(), b) {
			t.Fatalf("round trip: %x -> %x", b, l.Marshal())
		}
		if err := l.Verify(nil); err != nil && !errors.Is(err, ErrLogChain) {
			t.Fatalf("Verify: error of unknown kind: %v", err)
		}
	})
}

func FuzzParseCommandAudit(f *testing.F) {
	f.Add([]byte{0x53, 1, 0x5c, 2})
	f.Add([]byte{0x53})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseCommandAudit(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) || len(b)%2 == 0 {
				t.Fatalf("refused %x: %v", b, err)
			}
			return
		}
		if len(m) > len(b)/2 {
			t.Fatalf("%d settings from %d bytes", len(m), len(b))
		}
	})
}
