package audit

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Hours is a daily window of working hours, e.g. 08:00-18:00, in the local time of the
// times it is asked about. A window whose end is before its start runs over midnight
// (22:00-06:00).
type Hours struct {
	start, end int // minutes after midnight; end exclusive
}

// ParseHours reads "HH:MM-HH:MM" (24-hour clock; 24:00 is allowed as an end).
func ParseHours(s string) (Hours, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return Hours{}, fmt.Errorf("hours %q: want START-END, e.g. 08:00-18:00", s)
	}
	start, err := parseClock(a, false)
	if err != nil {
		return Hours{}, fmt.Errorf("hours %q: %v", s, err)
	}
	end, err := parseClock(b, true)
	if err != nil {
		return Hours{}, fmt.Errorf("hours %q: %v", s, err)
	}
	if start == end%(24*60) {
		return Hours{}, fmt.Errorf("hours %q: the window is empty (or the whole day): leave --outside-hours out instead", s)
	}
	return Hours{start, end}, nil
}

func parseClock(s string, end bool) (int, error) {
	hh, mm, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(hh) < 1 || len(hh) > 2 || len(mm) != 2 {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if err1 != nil || err2 != nil || h < 0 || m < 0 || m > 59 || h > 24 || h == 24 && (m != 0 || !end) || hh[0] == '+' || mm[0] == '+' {
		return 0, fmt.Errorf("%q is not a time of day from 00:00 to 23:59", s)
	}
	return h*60 + m, nil
}

// Contains reports whether t, in its own location, falls within the window.
func (h Hours) Contains(t time.Time) bool {
	m := t.Hour()*60 + t.Minute()
	if h.start < h.end {
		return h.start <= m && m < h.end
	}
	return m >= h.start || m < h.end
}

// String prints the window as ParseHours reads it.
func (h Hours) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", h.start/60, h.start%60, h.end/60, h.end%60)
}
