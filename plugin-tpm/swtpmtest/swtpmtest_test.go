package swtpmtest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"

	"github.com/awskeep/awskeep/plugin-tpm/swtpmtest"
	"github.com/awskeep/awskeep/plugin-tpm/tpmtest"
)

// TestStartRestart checks the helper's promises: separate instances on separate ports,
// a working command port, and persistent state that survives Restart while PCRs reset.
func TestStartRestart(t *testing.T) {
	a, b := swtpmtest.Start(t), swtpmtest.Start(t)
	if a.Port == b.Port || a.StateDir == b.StateDir {
		t.Fatalf("two instances share port %d or state %s", a.Port, a.StateDir)
	}
	if want := fmt.Sprintf("tcp://127.0.0.1:%d", a.Port); a.Device != want {
		t.Fatalf("Device = %q, want %q", a.Device, want)
	}
	if want := fmt.Sprintf("swtpm:host=127.0.0.1,port=%d", a.Port); a.TCTI() != want {
		t.Fatalf("TCTI = %q, want %q", a.TCTI(), want)
	}

	const handle = tpm2.TPMHandle(0x81000100)
	withTPM(t, a, func(tpm transport.TPM) {
		srk, err := tpm2.CreatePrimary{PrimaryHandle: tpm2.TPMRHOwner, InPublic: tpm2.New2B(tpm2.ECCSRKTemplate)}.Execute(tpm)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := (tpm2.EvictControl{Auth: tpm2.TPMRHOwner,
			ObjectHandle:     tpm2.NamedHandle{Handle: srk.ObjectHandle, Name: srk.Name},
			PersistentHandle: handle}).Execute(tpm); err != nil {
			t.Fatal(err)
		}
		tpm2.FlushContext{FlushHandle: srk.ObjectHandle}.Execute(tpm)
		tpmtest.ExtendPCR(t, tpm, 16, []byte("before restart"))
	})
	a.Restart(t)
	withTPM(t, a, func(tpm transport.TPM) {
		if _, err := (tpm2.ReadPublic{ObjectHandle: handle}).Execute(tpm); err != nil {
			t.Fatalf("persistent object after Restart: %v", err)
		}
		pcr, err := tpm2.PCRRead{PCRSelectionIn: tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{
			{Hash: tpm2.TPMAlgSHA256, PCRSelect: []byte{0, 0, 1}}}}}.Execute(tpm)
		if err != nil {
			t.Fatal(err)
		}
		if v := pcr.PCRValues.Digests[0].Buffer; strings.Trim(string(v), "\x00") != "" {
			t.Fatalf("PCR 16 after Restart = %x, want zeros", v)
		}
	})
	withTPM(t, b, func(tpm transport.TPM) {
		if _, err := (tpm2.ReadPublic{ObjectHandle: handle}).Execute(tpm); err == nil {
			t.Fatal("the other instance sees the persistent object")
		}
	})
	a.Stop()
	a.Stop() // idempotent
	if _, err := a.Open(context.Background()); err == nil {
		t.Fatal("Open succeeded after Stop")
	}
}

func withTPM(t *testing.T, s *swtpmtest.SWTPM, fn func(transport.TPM)) {
	t.Helper()
	c, err := s.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fn(tpmtest.Retry(c))
}
