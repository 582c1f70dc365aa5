package audit

import (
	"errors"
	"time"

	"github.com/awskeep/awskeep/plugins"
)

// Marker says how this read anchors the device's ticks to wall time: just before reading
// the log, awskeep asked the device about the key (GET_OBJECT_INFO on Object in a session of
// AuthKey) between Before and After by its own clock. When command audit is on for
// GET_OBJECT_INFO, that request is the newest such entry in the log, and its tick happened
// then.
type Marker struct {
	Object, AuthKey uint16
	Before, After   time.Time
}

// Options say what Analyze reports.
type Options struct {
	// Device names the device in the report and the state.
	Device string
	// Since leaves out signings placed before it; zero keeps all. Signings whose time is
	// unknown are kept.
	Since time.Time
	// Hours flags successful signings outside the window, or whose time is unknown.
	Hours *Hours
	// Location is where Hours and printed times are read; default time.Local.
	Location *time.Location
	// Marker anchors this read, if awskeep made one.
	Marker *Marker
}

// AssumedTickRate is the tick length used while a boot has fewer than two anchors a minute
// apart: the simulator's, and what python-yubihsm's and awskeep's protocol documents
// assume. Yubico does not document it.
const AssumedTickRate = time.Millisecond

// minRateSpan is the least tick span between two anchors from which a rate is measured.
const minRateSpan = 60_000

// Analyze verifies the log against the state of the last run and reports its signings. It
// returns the state to save for the next run. A broken chain is reported in
// Report.Tampered, with no signings (nothing in the log can be trusted then) and the old
// state; other failures are errors.
func Analyze(log plugins.AuditLogResult, st State, opts Options) (Report, State, error) {
	if opts.Location == nil {
		opts.Location = time.Local
	}
	r := Report{
		Device: opts.Device, Entries: len(log.Entries), UnloggedBoots: log.UnloggedBoots, UnloggedAuths: log.UnloggedAuths,
		loc: opts.Location,
	}
	if opts.Hours != nil {
		r.Hours = opts.Hours.String()
	}
	if !opts.Since.IsZero() {
		since := opts.Since
		r.Since = &since
	}
	if n := len(log.Entries); n > 0 {
		r.First, r.Last = log.Entries[0].Number, log.Entries[n-1].Number
	}
	chain, err := VerifyChain(log.Entries, st.Last)
	var te *TamperError
	if errors.As(err, &te) {
		r.Tampered = te
		return r, st, nil
	}
	if err != nil {
		return Report{}, st, err
	}
	r.VerifiedFrom, r.Gap, r.Reset = chain.From, chain.Gap, chain.Reset

	// Boots: ticks are comparable only within one.
	boots := make([]*Boot, len(log.Entries))
	var cur *Boot
	if st.Boot != nil && chain.Gap == nil && !chain.Reset {
		cur = &Boot{Entry: st.Boot.Entry, Anchors: append([]Anchor(nil), st.Boot.Anchors...)}
	}
	for i, e := range log.Entries {
		if e.Command == CmdBoot {
			cur = &Boot{Entry: checkpointOf(e)}
			if st.Boot != nil && st.Boot.Entry != nil && *st.Boot.Entry == *cur.Entry {
				cur.Anchors = append([]Anchor(nil), st.Boot.Anchors...)
			}
		}
		boots[i] = cur
	}
	if m := opts.Marker; m != nil {
		r.Anchored = false
		for i := len(log.Entries) - 1; i >= chain.New && i >= 0; i-- {
			e := log.Entries[i]
			if e.Command == CmdGetObjectInfo && succeeded(e) && e.TargetKey == m.Object && e.SessionKey == m.AuthKey {
				if boots[i] == nil { // a boot no read has seen the entry of
					boots[i] = &Boot{}
					for j := i + 1; j < len(boots) && boots[j] == nil; j++ {
						boots[j] = boots[i]
					}
				}
				boots[i].add(Anchor{Tick: e.Tick, Time: m.Before.Add(m.After.Sub(m.Before) / 2), Uncertainty: m.After.Sub(m.Before) / 2})
				r.Anchored = true
				break
			}
		}
	}

	for i, e := range log.Entries {
		if e.Command != CmdSignHMAC {
			continue
		}
		s := Signing{Entry: e.Number, Tick: e.Tick, Key: e.TargetKey, SessionKey: e.SessionKey, OK: succeeded(e)}
		if t, estimated, ok := boots[i].place(e.Tick); ok {
			t = t.In(opts.Location)
			s.Time, s.Estimated = &t, estimated
		}
		if s.Time != nil && r.Since != nil && s.Time.Before(*r.Since) {
			continue
		}
		if s.OK && opts.Hours != nil && (s.Time == nil || !opts.Hours.Contains(*s.Time)) {
			s.Outside = true
			r.Outside++
		}
		if s.Time == nil {
			r.Unplaced++
		}
		r.Signings = append(r.Signings, s)
	}

	next := State{Version: stateVersion, Device: opts.Device, Last: st.Last, Boot: st.Boot}
	if n := len(log.Entries); n > 0 {
		next.Last = checkpointOf(log.Entries[n-1])
		next.Boot = boots[n-1]
	}
	return r, next, nil
}

// add records an anchor, keeping the first and the latest.
func (b *Boot) add(a Anchor) {
	switch len(b.Anchors) {
	case 0, 1:
		b.Anchors = append(b.Anchors, a)
	default:
		b.Anchors[1] = a
	}
}

// place returns the wall time of a tick of boot b, and whether it rests on the assumed tick
// rate rather than one measured between two anchors.
func (b *Boot) place(tick uint32) (t time.Time, estimated, ok bool) {
	if b == nil || len(b.Anchors) == 0 {
		return time.Time{}, false, false
	}
	rate, estimated := float64(AssumedTickRate), true
	first, last := b.Anchors[0], b.Anchors[len(b.Anchors)-1]
	if last.Tick > first.Tick && last.Tick-first.Tick >= minRateSpan {
		rate = float64(last.Time.Sub(first.Time)) / float64(last.Tick-first.Tick)
		estimated = false
	}
	near := first
	if dist(tick, last.Tick) < dist(tick, first.Tick) {
		near = last
	}
	return near.Time.Add(time.Duration((float64(tick) - float64(near.Tick)) * rate)), estimated, true
}

func dist(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}
