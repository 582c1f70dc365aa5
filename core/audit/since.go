package audit

import (
	"fmt"
	"strings"
	"time"
)

// sinceLayouts are the absolute forms ParseSince takes, in loc unless they carry a zone.
var sinceLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"}

// ParseSince reads --since: a Go duration back from now ("24h", "90m"), or a time: RFC 3339
// ("2026-11-30T08:00:00Z"), or "2026-11-30T08:00", "2026-11-30 08:00", "2026-11-30" in loc.
func ParseSince(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("since %q: a duration back from now must be positive, e.g. 24h", s)
		}
		return now.Add(-d), nil
	}
	for _, layout := range sinceLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("since %q: want a duration back from now (24h) or a time (2026-11-30T08:00:00Z, 2026-11-30 08:00, 2026-11-30)", s)
}
