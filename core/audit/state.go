package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// State is what awskeep audit keeps between runs, per device: where the verified chain
// ended, and the (tick, wall time) anchors of the device's current boot. It holds no
// secret. Losing it costs continuity (the next read is verified from its own first entry)
// and the anchors of earlier runs, nothing else.
type State struct {
	// Version is 1.
	Version int `json:"version"`
	// Device is the device's URI without secrets, to catch a state file used for another.
	Device string `json:"device"`
	// Last is the last entry verified.
	Last *Checkpoint `json:"last,omitempty"`
	// Boot is the boot the last entry belongs to.
	Boot *Boot `json:"boot,omitempty"`
}

// Boot is one power-on of the device: ticks restart at 0 with each.
type Boot struct {
	// Entry is the boot's own log entry, nil when no read has seen it.
	Entry *Checkpoint `json:"entry,omitempty"`
	// Anchors pair ticks of this boot with wall time: the first and the latest recorded.
	Anchors []Anchor `json:"anchors,omitempty"`
}

// Anchor says that the device's tick was Tick at Time, within Uncertainty.
type Anchor struct {
	Tick        uint32        `json:"tick"`
	Time        time.Time     `json:"time"`
	Uncertainty time.Duration `json:"uncertainty"`
}

const stateVersion = 1

// ParseState decodes a state file, refusing anything but what SaveState writes.
func ParseState(b []byte) (State, error) {
	var st State
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return State{}, fmt.Errorf("audit state: %w", err)
	}
	if dec.More() {
		return State{}, errors.New("audit state: data after the JSON object")
	}
	if st.Version != stateVersion {
		return State{}, fmt.Errorf("audit state: version %d, want %d", st.Version, stateVersion)
	}
	for _, c := range []*Checkpoint{st.Last, bootEntry(st.Boot)} {
		if c != nil {
			if _, err := c.digest(); err != nil {
				return State{}, err
			}
		}
	}
	if st.Boot != nil && len(st.Boot.Anchors) > 2 {
		return State{}, fmt.Errorf("audit state: %d anchors, at most 2", len(st.Boot.Anchors))
	}
	return st, nil
}

func bootEntry(b *Boot) *Checkpoint {
	if b == nil {
		return nil
	}
	return b.Entry
}

// LoadState reads the state file at path; a missing file is an empty State.
func LoadState(path string) (State, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return State{Version: stateVersion}, nil
	}
	if err != nil {
		return State{}, err
	}
	st, err := ParseState(b)
	if err != nil {
		return State{}, fmt.Errorf("%s: %w (move it away to start over; the next read is then verified from its own first entry)", path, err)
	}
	return st, nil
}

// SaveState writes st to path (mode 0600, in a 0700 directory) by renaming a complete file
// over it, so a crash leaves the old state or the new one.
func SaveState(path string, st State) error {
	st.Version = stateVersion
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".audit-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
