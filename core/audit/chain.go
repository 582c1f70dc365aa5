package audit

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/awskeep/awskeep/plugins"
)

// Checkpoint is the last entry an earlier read verified: the next read must continue its
// chain. It is kept in the State between runs.
type Checkpoint struct {
	Number uint16 `json:"number"`
	// Digest is the entry's digest in hex.
	Digest string `json:"digest"`
}

func checkpointOf(e plugins.AuditLogEntry) *Checkpoint {
	return &Checkpoint{Number: e.Number, Digest: hex.EncodeToString(e.Digest[:])}
}

func (c *Checkpoint) digest() ([plugins.AuditLogDigestSize]byte, error) {
	var d [plugins.AuditLogDigestSize]byte
	b, err := hex.DecodeString(c.Digest)
	if err != nil || len(b) != plugins.AuditLogDigestSize {
		return d, fmt.Errorf("audit: checkpoint digest %q is not %d hex bytes", c.Digest, plugins.AuditLogDigestSize)
	}
	copy(d[:], b)
	return d, nil
}

// ErrTampered is a log whose hash chain is broken: an entry was altered, removed or
// inserted after the device wrote it, or the answer did not come from the device.
var ErrTampered = errors.New("audit log hash chain broken")

// TamperError names the first entry whose link in the chain does not hold.
type TamperError struct {
	// Number is the entry's number.
	Number uint16
	// Reason says which link failed.
	Reason string
}

// Error names the entry and what to do.
func (e *TamperError) Error() string {
	return fmt.Sprintf("entry %d: %s: the log was altered after the device wrote it (tampering), or the answer did not come from this device", e.Number, e.Reason)
}

// Unwrap makes errors.Is(err, ErrTampered) hold.
func (e *TamperError) Unwrap() error { return ErrTampered }

// Gap is a run of entries the device overwrote before anyone read them: the Log Store is a
// ring of 62 entries unless force audit is on.
type Gap struct {
	From uint16 `json:"from"`
	To   uint16 `json:"to"`
}

// Chain is what VerifyChain established.
type Chain struct {
	// From says where verification started: "the previous audit (entry N)", or "entry N"
	// when there was no checkpoint (the first entry's own digest cannot be checked then).
	From string
	// Gap is set when entries between the checkpoint and this read were lost.
	Gap *Gap
	// Reset is set when the device was reset since the checkpoint: the log restarted.
	Reset bool
	// New is the index of the first entry the checkpoint's read did not hold.
	New int
}

// VerifyChain checks that each entry follows the one before it and that the read continues
// the chain from last (nil on a first read). A broken link is a *TamperError.
func VerifyChain(entries []plugins.AuditLogEntry, last *Checkpoint) (Chain, error) {
	for i := 1; i < len(entries); i++ {
		prev, e := entries[i-1], entries[i]
		if e.Number != prev.Number+1 {
			return Chain{}, &TamperError{e.Number, fmt.Sprintf("it comes right after entry %d in the device's answer", prev.Number)}
		}
		if !follows(e, prev.Number, prev.Digest) {
			return Chain{}, &TamperError{e.Number, fmt.Sprintf("its digest does not cover its contents and entry %d's digest", prev.Number)}
		}
	}
	if last == nil {
		c := Chain{}
		if len(entries) > 0 {
			c.From = fmt.Sprintf("entry %d", entries[0].Number)
		}
		return c, nil
	}
	want, err := last.digest()
	if err != nil {
		return Chain{}, err
	}
	c := Chain{From: fmt.Sprintf("the previous audit (entry %d)", last.Number)}
	if len(entries) == 0 {
		return c, nil
	}
	for i, e := range entries {
		if e.Number == last.Number {
			if e.Digest != want {
				return Chain{}, &TamperError{e.Number, "it differs from what the previous audit read"}
			}
			c.New = i + 1
			return c, nil
		}
	}
	first := entries[0]
	switch ahead := first.Number - last.Number; {
	case first.Command == CmdReset && first.Number == 1:
		c.Reset, c.From = true, "entry 1 (the device was reset since the previous audit)"
	case ahead == 1:
		if !follows(first, last.Number, want) {
			return Chain{}, &TamperError{first.Number, fmt.Sprintf("its digest does not follow entry %d, where the previous audit ended", last.Number)}
		}
	case ahead < 0x8000:
		c.Gap = &Gap{From: last.Number + 1, To: first.Number - 1}
		c.From = fmt.Sprintf("entry %d (entries %d to %d were overwritten before they were read)", first.Number, c.Gap.From, c.Gap.To)
	default:
		return Chain{}, &TamperError{last.Number, "the entry the previous audit ended with is gone while older entries remain"}
	}
	return c, nil
}
