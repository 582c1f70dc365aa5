package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Report is what one read of the log shows.
type Report struct {
	Device        string       `json:"device"`
	Entries       int          `json:"entries"`
	First         uint16       `json:"first_entry"`
	Last          uint16       `json:"last_entry"`
	VerifiedFrom  string       `json:"verified_from,omitempty"`
	Tampered      *TamperError `json:"-"`
	Gap           *Gap         `json:"lost_entries,omitempty"`
	Reset         bool         `json:"reset,omitempty"`
	UnloggedBoots uint16       `json:"unlogged_boots"`
	UnloggedAuths uint16       `json:"unlogged_authentications"`
	// Anchored says this read placed its ticks in time with a fresh anchor.
	Anchored bool       `json:"anchored"`
	Since    *time.Time `json:"since,omitempty"`
	Hours    string     `json:"hours,omitempty"`
	Signings []Signing  `json:"signings"`
	// Outside counts successful signings outside Hours (or of unknown time, with Hours).
	Outside int `json:"outside_hours"`
	// Unplaced counts signings whose time is unknown.
	Unplaced int `json:"time_unknown"`

	loc *time.Location
}

// Signing is one SIGN_HMAC entry.
type Signing struct {
	Entry uint16 `json:"entry"`
	// Time is when it ran, nil when its boot has no anchor.
	Time *time.Time `json:"time,omitempty"`
	// Estimated says Time rests on AssumedTickRate.
	Estimated  bool   `json:"estimated,omitempty"`
	Tick       uint32 `json:"tick"`
	Key        uint16 `json:"key"`
	SessionKey uint16 `json:"session_key"`
	// OK is false for a signing the device refused.
	OK      bool `json:"ok"`
	Outside bool `json:"outside_hours"`
}

// Alerts lists what needs a person: tampering, signings outside the hours, lost entries.
// awskeep audit exits 3 when there is any.
func (r Report) Alerts() []string {
	var a []string
	if r.Tampered != nil {
		a = append(a, "tampering: "+r.Tampered.Error())
	}
	for _, s := range r.Signings {
		if s.Outside {
			a = append(a, fmt.Sprintf("signing outside %s: entry %d, %s, key %#04x, session of authentication key %#04x",
				r.Hours, s.Entry, s.when(), s.Key, s.SessionKey))
		}
	}
	if r.Gap != nil {
		a = append(a, fmt.Sprintf("entries %d to %d were overwritten before they were read (run awskeep audit more often than every 62 logged commands, or turn on force audit)", r.Gap.From, r.Gap.To))
	}
	return a
}

func (s Signing) when() string {
	if s.Time == nil {
		return fmt.Sprintf("time unknown (tick %d of a boot awskeep has no anchor for)", s.Tick)
	}
	t := s.Time.Format("2006-01-02 15:04:05 MST")
	if s.Estimated {
		return "~" + t
	}
	return t
}

// WriteText prints the report for a person.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "audit log of %s\n", r.Device)
	if r.Tampered != nil {
		fmt.Fprintf(&b, "TAMPERED: %v\n", r.Tampered)
		_, err := io.WriteString(w, b.String())
		return err
	}
	switch {
	case r.Entries == 0:
		fmt.Fprintf(&b, "no entries (released, or nothing logged since)\n")
	default:
		fmt.Fprintf(&b, "entries %d to %d, hash chain verified from %s\n", r.First, r.Last, r.VerifiedFrom)
	}
	if r.Gap != nil {
		fmt.Fprintf(&b, "LOST: entries %d to %d were overwritten before they were read\n", r.Gap.From, r.Gap.To)
	}
	if r.UnloggedBoots > 0 || r.UnloggedAuths > 0 {
		fmt.Fprintf(&b, "not logged (log full under force audit): %d boots, %d authentications\n", r.UnloggedBoots, r.UnloggedAuths)
	}
	if !r.Anchored {
		fmt.Fprintf(&b, "no fresh time anchor: turn on command audit for GET_OBJECT_INFO (0x4e) so each audit can place ticks in time (see docs/audit.md)\n")
	}
	if len(r.Signings) == 0 {
		fmt.Fprintf(&b, "no HMAC signings")
		if r.Since != nil {
			fmt.Fprintf(&b, " since %s", r.Since.In(r.location()).Format("2006-01-02 15:04:05 MST"))
		}
		b.WriteString("\n")
	}
	for _, s := range r.Signings {
		fmt.Fprintf(&b, "entry %d  %s  SIGN_HMAC key %#04x  session of authentication key %#04x", s.Entry, s.when(), s.Key, s.SessionKey)
		if !s.OK {
			b.WriteString("  refused by the device")
		}
		if s.Outside {
			fmt.Fprintf(&b, "  OUTSIDE %s", r.Hours)
		}
		b.WriteString("\n")
	}
	if r.Hours != "" {
		noun := "signings"
		if r.Outside == 1 {
			noun = "signing"
		}
		fmt.Fprintf(&b, "%d %s outside %s\n", r.Outside, noun, r.Hours)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (r Report) location() *time.Location {
	if r.loc == nil {
		return time.Local
	}
	return r.loc
}

// jsonReport adds the tampering and the alerts to the JSON form.
type jsonReport struct {
	Report
	Tampered *jsonTamper `json:"tampered"`
	Alerts   []string    `json:"alerts"`
}

type jsonTamper struct {
	Entry  uint16 `json:"entry"`
	Reason string `json:"reason"`
}

// WriteJSON prints the report as one JSON object.
func (r Report) WriteJSON(w io.Writer) error {
	j := jsonReport{Report: r, Alerts: r.Alerts()}
	if j.Alerts == nil {
		j.Alerts = []string{}
	}
	if j.Signings == nil {
		j.Signings = []Signing{}
	}
	if r.Tampered != nil {
		j.Tampered = &jsonTamper{Entry: r.Tampered.Number, Reason: r.Tampered.Reason}
	}
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
