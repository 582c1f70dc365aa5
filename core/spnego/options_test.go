package spnego

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func writeConf(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "krb5.conf")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadConfig(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		dns        bool
		ccache     string
	}{
		{"MIT defaults: DNS lookup on", "[libdefaults]\n default_realm = EXAMPLE.COM\n", true, ""},
		{"dns_lookup_kdc off", "[libdefaults]\n dns_lookup_kdc = false\n", false, ""},
		{"dns_fallback off", "[libdefaults]\n dns_fallback = no\n", false, ""},
		{"dns_lookup_kdc wins", "[libdefaults]\n dns_fallback = no\n dns_lookup_kdc = true\n", true, ""},
		{"default_ccache_name", "[libdefaults]\n default_ccache_name = \"FILE:/run/cc\"\n", true, "FILE:/run/cc"},
		{"only in libdefaults", "[realms]\n R = {\n  default_ccache_name = FILE:/no\n }\n[libdefaults]\n x = 1\n", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{Krb5Conf: writeConf(t, tc.text)}
			o.setDefaults()
			c, err := loadConfig(&o)
			if err != nil {
				t.Fatal(err)
			}
			if c.conf.LibDefaults.DNSLookupKDC != tc.dns {
				t.Errorf("DNSLookupKDC = %v", c.conf.LibDefaults.DNSLookupKDC)
			}
			if got := c.libdefault("default_ccache_name"); got != tc.ccache {
				t.Errorf("default_ccache_name = %q, want %q", got, tc.ccache)
			}
		})
	}
}

func TestKrb5ConfigList(t *testing.T) {
	p := writeConf(t, "[libdefaults]\n default_realm = EXAMPLE.COM\n")
	o := Options{Getenv: func(k string) string {
		if k == "KRB5_CONFIG" {
			return "/nonexistent/a.conf:" + p + ":/etc/krb5.conf"
		}
		return ""
	}}
	o.setDefaults()
	c, err := loadConfig(&o)
	if err != nil || c.path != p {
		t.Fatalf("path %v, err %v", c, err)
	}
	o.Getenv = func(k string) string { return map[string]string{"KRB5_CONFIG": "/nonexistent/a.conf"}[k] }
	_, err = loadConfig(&o)
	if !errors.Is(err, ErrConfig) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
}

func TestCCachePath(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "primary"), []byte("tktXYZ\n"), 0o600)
	empty := t.TempDir()
	for _, tc := range []struct {
		name, want string
		err        error
	}{
		{"/tmp/krb5cc_1000", "/tmp/krb5cc_1000", nil},
		{"FILE:/tmp/krb5cc_1000", "/tmp/krb5cc_1000", nil},
		{"file:/tmp/x", "/tmp/x", nil},
		{"DIR:" + dir, dir + "/tktXYZ", nil},
		{"DIR:" + empty, empty + "/tkt", nil},
		{"DIR::" + dir + "/tktABC", dir + "/tktABC", nil},
		{"KEYRING:persistent:1000", "", ErrUnsupportedCCache},
		{"KCM:1000", "", ErrUnsupportedCCache},
		{"MEMORY:x", "", ErrUnsupportedCCache},
		{"API:x", "", ErrUnsupportedCCache},
	} {
		got, err := ccachePath(ccacheName{tc.name, "test"})
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("%s: %q, %v; want %q, %v", tc.name, got, err, tc.want, tc.err)
		}
	}
}

func TestExpandTokens(t *testing.T) {
	getenv := func(k string) string { return map[string]string{"TMPDIR": "/var/tmp"}[k] }
	uid := strconv.Itoa(os.Getuid())
	if got := expandTokens("FILE:%{TEMP}/krb5cc_%{uid}%{null}", getenv); got != "FILE:/var/tmp/krb5cc_"+uid {
		t.Fatal(got)
	}
}

func TestAsksNegotiate(t *testing.T) {
	for _, tc := range []struct {
		values []string
		want   bool
	}{
		{[]string{"Negotiate"}, true},
		{[]string{"negotiate"}, true},
		{[]string{"Basic realm=\"x\"", "Negotiate"}, true},
		{[]string{"NTLM, Negotiate"}, true},
		{[]string{"Negotiate oYGg"}, true},
		{[]string{"Basic realm=\"Negotiate\""}, false},
		{[]string{"NegotiateX"}, false},
		{nil, false},
	} {
		h := http.Header{"Www-Authenticate": tc.values}
		if got := asksNegotiate(h); got != tc.want {
			t.Errorf("%q: %v", tc.values, got)
		}
	}
}

func TestParseCCacheNoPanic(t *testing.T) {
	for _, b := range [][]byte{nil, {5}, {5, 4}, {5, 4, 0, 12, 0, 1, 0, 8}, {5, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9}} {
		if _, err := parseCCache(b); err == nil {
			t.Errorf("%x: no error", b)
		}
	}
}

func FuzzParseCCache(f *testing.F) {
	f.Add([]byte{5, 4, 0, 12, 0, 1, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseCCache(b) // must not panic
	})
}

func FuzzParseKeytab(f *testing.F) {
	f.Add([]byte{5, 2, 0, 0, 0, 12, 0, 1, 0, 1, 'R', 0, 1, 'a', 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseKeytab(b) // must not panic
	})
}
