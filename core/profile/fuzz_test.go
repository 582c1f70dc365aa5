package profile

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, that Where points at a line that
// holds the setting, and that the line locator reads every input the way
// ini.v1 does (same sections, keys, nested values and failures).
func FuzzParse(f *testing.F) {
	f.Add([]byte(fullConfig), "prod-hsm")
	f.Add([]byte("[default]\nregion = x\n[profile default]\nregion = y\n"), "default")
	f.Add([]byte("[profile p]\nregion =\n  nested = 1\n\tawskeep_key = k\nawskeep_key = `a\nb`\n"), "p")
	f.Add([]byte("\xEF\xBB\xBF[profile p]\r\n\"\"\"k\"\"\" = \"\"\"v\n\"\"\"\r\n- = 1\n- =\n"), "p")
	f.Add([]byte("[profile p]\nservices = s\n[services s]\nsts =\n  endpoint_url = http://x\n"), "p")
	f.Add([]byte("[p]\nawskeep_kye = 1\n"), "p")
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		ls := bytes.Split(data, []byte("\n"))
		checkLocator(t, data, ls)
		tried := map[string]bool{}
		for _, n := range append([]string{name}, Names(data)...) {
			if tried[n] || len(tried) > 4 {
				continue
			}
			tried[n] = true
			p, err := Parse(data, "f", n)
			if err != nil {
				continue
			}
			for _, s := range fuzzSettings {
				checkWhere(t, ls, p, s)
			}
		}
	})
}

var fuzzSettings = append([]string{
	"region", "role_session_name", "external_id", "mfa_serial", "duration_seconds",
	"endpoint_url", "services", "ca_bundle", "credential_process", "source_profile", "role_arn",
}, KnownSettings...)

var whereRE = regexp.MustCompile(`^f:([0-9]+)$`)

// checkWhere checks that Where(s) names a line holding s when s is present,
// and the section header otherwise.
func checkWhere(t *testing.T, ls [][]byte, p *Profile, s string) {
	t.Helper()
	m := whereRE.FindStringSubmatch(p.Where(s))
	if m == nil {
		t.Fatalf("Where(%q) = %q, want f:LINE", s, p.Where(s))
	}
	n, _ := strconv.Atoi(m[1])
	text := strings.ToLower(lineText(ls, n))
	if p.Has(s) && !strings.Contains(text, s) {
		t.Fatalf("Where(%q) = line %d %q, which does not hold the setting", s, n, text)
	}
	if !p.Has(s) && !strings.Contains(text, "[") {
		t.Fatalf("Where(%q) of an absent setting = line %d %q, want the section header", s, n, text)
	}
}

// checkLocator compares the line locator with ini.v1 on data.
func checkLocator(t *testing.T, data []byte, ls [][]byte) {
	t.Helper()
	f, iniErr := loadINI(data)
	idx, bad, reason := locate(data)
	if (iniErr != nil) != (reason != "") {
		t.Fatalf("ini.v1 error %v, locator: line %d %q", iniErr, bad, reason)
	}
	if iniErr != nil {
		return
	}
	for _, s := range f.Sections() {
		l := idx[s.Name()]
		if l == nil {
			t.Fatalf("locator misses section [%s]", s.Name())
		}
		if s.Name() != iniDefault {
			if text := lineText(ls, l.header); !strings.Contains(text, "["+s.Name()+"]") {
				t.Fatalf("section [%s] at line %d %q", s.Name(), l.header, text)
			}
		}
		for _, k := range s.Keys() {
			n := l.keys[k.Name()]
			if n == 0 {
				t.Fatalf("locator misses key %q of [%s]", k.Name(), s.Name())
			}
			if !autoKey.MatchString(k.Name()) {
				if text := strings.ToLower(lineText(ls, n)); !strings.Contains(text, k.Name()) {
					t.Fatalf("key %q of [%s] at line %d %q", k.Name(), s.Name(), n, text)
				}
			}
			if got, want := len(l.nested[k.Name()]), len(k.NestedValues()); got != want {
				t.Fatalf("key %q of [%s]: locator has %d nested values, ini.v1 %d", k.Name(), s.Name(), got, want)
			}
		}
		if got, want := len(l.keys), len(s.Keys()); got != want {
			t.Fatalf("[%s]: locator has %d keys, ini.v1 %d", s.Name(), got, want)
		}
	}
	if got, want := len(idx), len(f.Sections()); got != want {
		t.Fatalf("locator has %d sections, ini.v1 %d", got, want)
	}
}

var autoKey = regexp.MustCompile(`^#[0-9]+$`) // ini.v1's name for a "-" key

// lineText returns line n (from 1) of the lines ls, or "" when there is none.
func lineText(ls [][]byte, n int) string {
	if n < 1 || n > len(ls) {
		return ""
	}
	return string(ls[n-1])
}
