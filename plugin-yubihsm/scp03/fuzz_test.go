package scp03

import (
	"bytes"
	"testing"
)

// FuzzOpenResponse feeds arbitrary device replies to the host end: no panic, and nothing
// but the genuine frame is accepted.
func FuzzOpenResponse(f *testing.F) {
	tr := loadTranscript(f)
	for _, r := range tr.replies {
		f.Add(r)
	}
	f.Add([]byte{0x85, 0x00, 0x00})
	f.Add([]byte{0x7f, 0x00, 0x01, 0x03})
	keys, ctx := transcriptKeys(f, tr)
	f.Fuzz(func(t *testing.T, frame []byte) {
		host := NewChannel(0, keys)
		host.AuthenticateSession(keys.HostCryptogram(ctx))
		if _, err := host.SealCommand(tr.inner[0]); err != nil {
			t.Fatal(err)
		}
		inner, err := host.OpenResponse(frame)
		if err == nil && (!bytes.Equal(frame, tr.replies[2]) || !bytes.Equal(inner, tr.innerRsp[0])) {
			t.Fatalf("accepted forged response %x", frame)
		}
	})
}

// FuzzOpenCommand feeds arbitrary frames to the device end.
func FuzzOpenCommand(f *testing.F) {
	tr := loadTranscript(f)
	for _, c := range tr.commands {
		f.Add(c)
	}
	f.Add([]byte{0x05, 0x00, 0x00})
	keys, ctx := transcriptKeys(f, tr)
	f.Fuzz(func(t *testing.T, frame []byte) {
		dev := NewChannel(0, keys)
		if err := dev.VerifyAuthenticateSession(tr.commands[1], keys.HostCryptogram(ctx)); err != nil {
			t.Fatal(err)
		}
		inner, err := dev.OpenCommand(frame)
		if err == nil && (!bytes.Equal(frame, tr.commands[2]) || !bytes.Equal(inner, tr.inner[0])) {
			t.Fatalf("accepted forged command %x", frame)
		}
	})
}

// FuzzUnpad checks Unpad against Pad: whatever it accepts re-pads to its input.
func FuzzUnpad(f *testing.F) {
	f.Add([]byte{})
	f.Add(Pad([]byte("abc")))
	f.Add(make([]byte, 16))
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := Unpad(b)
		if err != nil {
			return
		}
		if !bytes.Equal(Pad(u), b) {
			t.Fatalf("Unpad(%x) = %x does not re-pad", b, u)
		}
	})
}
