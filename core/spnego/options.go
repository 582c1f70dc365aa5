package spnego

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"

	"github.com/jcmturner/gokrb5/v8/config"
)

// Options configures Client. The zero value reads the ticket cache that kinit wrote, with
// the system's krb5.conf, as MIT Kerberos would.
type Options struct {
	// Krb5Conf is the path of krb5.conf. Default: the first existing file of $KRB5_CONFIG
	// (a colon-separated list, as in MIT Kerberos), else /etc/krb5.conf.
	Krb5Conf string
	// CCache names the ticket cache: "FILE:/path", "/path", "DIR:/dir" (its primary
	// cache) or "DIR::/dir/tktNAME". Default: $KRB5CCNAME, else default_ccache_name in
	// krb5.conf's [libdefaults], else FILE:/tmp/krb5cc_<uid>. KEYRING:, KCM:, MEMORY: and
	// API: caches cannot be read from Go: Client fails with ErrUnsupportedCCache and a hint.
	CCache string
	// Keytab, when set, logs in from this keytab instead of the ticket cache: an AS exchange
	// with the KDC at Client and again whenever the ticket expires. Default: $KRB5_CLIENT_KTNAME
	// (MIT's client keytab variable; "FILE:/path" or "/path"), else none: the ticket cache.
	Keytab string
	// Principal is the keytab's client principal, "name" or "name@REALM" (default realm:
	// krb5.conf's default_realm). Default: the keytab's only principal.
	Principal string
	// SPN is the service principal every host is asked a ticket for. Default: HTTP/<host>,
	// the request URL's host name in lower case without port, as written (no DNS
	// canonicalisation: a server known by an alias needs its SPN set here).
	SPN string
	// HTTPClient is copied, not changed; its Transport (default http.DefaultTransport) sends
	// the requests. When it has no cookie jar the copy gets one, because identity providers
	// keep the login session in a cookie across redirects.
	HTTPClient *http.Client
	// Getenv reads the environment (KRB5_CONFIG, KRB5CCNAME, KRB5_CLIENT_KTNAME, TMPDIR).
	// Default: os.Getenv.
	Getenv func(string) string
	// Now is the clock that decides whether a ticket has expired. Default: time.Now.
	Now func() time.Time

	keytabSource string // envClientKeytab when Keytab came from it (setDefaults)
}

func (o *Options) setDefaults() {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Keytab == "" {
		if o.Keytab = strings.TrimPrefix(o.Getenv(envClientKeytab), "FILE:"); o.Keytab != "" {
			o.keytabSource = envClientKeytab
		}
	}
}

// envClientKeytab is MIT Kerberos's variable naming the client keytab.
const envClientKeytab = "KRB5_CLIENT_KTNAME"

// keytabError notes where the keytab's name came from on err, a *KeytabError.
func (o *Options) keytabError(err error) error {
	var ke *KeytabError
	if errors.As(err, &ke) && ke.Source == "" {
		ke.Source = o.keytabSource
	}
	return err
}

// krb5Conf is a loaded krb5.conf: gokrb5's parse plus the raw text, for relations gokrb5
// ignores (default_ccache_name).
type krb5Conf struct {
	path string
	conf *config.Config
	text []byte
}

// loadConfig finds and parses krb5.conf.
func loadConfig(o *Options) (*krb5Conf, error) {
	path, from := o.Krb5Conf, "Options.Krb5Conf"
	if path == "" {
		from = "KRB5_CONFIG"
		for _, p := range strings.Split(o.Getenv("KRB5_CONFIG"), ":") {
			if p == "" {
				continue
			}
			if path == "" {
				path = p // reported if none exists
			}
			if _, err := os.Stat(p); err == nil {
				path = p
				break
			}
		}
	}
	if path == "" {
		path, from = "/etc/krb5.conf", "default"
	}
	name := path + " (from " + from + ")"
	text, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			err = fmt.Errorf("%w: set KRB5_CONFIG or create it (Debian: apt-get install krb5-config)", err)
		}
		return nil, &ConfigError{Path: name, Err: err}
	}
	conf, err := config.NewFromString(string(text))
	var unsupported config.UnsupportedDirective
	if err != nil && !errors.As(err, &unsupported) {
		return nil, &ConfigError{Path: name, Err: err}
	}
	if conf == nil {
		return nil, &ConfigError{Path: name, Err: errors.New("cannot be parsed")}
	}
	c := &krb5Conf{path: path, conf: conf, text: text}
	// MIT looks KDCs up in DNS (SRV records) unless told not to; gokrb5's default is off.
	// Active Directory realms often rely on it, with no [realms] entry at all.
	if c.libdefault("dns_lookup_kdc") == "" {
		conf.LibDefaults.DNSLookupKDC = !isFalse(c.libdefault("dns_fallback"))
	}
	return c, nil
}

// isFalse reads a profile boolean the way MIT does (false, no, off, 0).
func isFalse(v string) bool {
	switch strings.ToLower(v) {
	case "false", "no", "off", "n", "f", "nil", "0":
		return true
	}
	return false
}

// kdcs returns the KDCs krb5.conf lists for realm.
func (c *krb5Conf) kdcs(realm string) []string {
	for _, r := range c.conf.Realms {
		if r.Realm == realm {
			return r.KDC
		}
	}
	return nil
}

// checkRealm fails with ErrKDCUnreachable when the KDC of realm cannot be found: krb5.conf
// lists none and DNS SRV lookup is off.
func (c *krb5Conf) checkRealm(realm, op string) error {
	if len(c.kdcs(realm)) > 0 || c.conf.LibDefaults.DNSLookupKDC {
		return nil
	}
	return &KDCError{Kind: ErrKDCUnreachable, Op: op, Realm: realm, Krb5Conf: c.path, Err: errNoKDCListed}
}

// libdefault returns the value of key in krb5.conf's [libdefaults] section, or "".
// (MIT profile syntax: "key = value" lines; "name = {" opens a subsection.)
func (c *krb5Conf) libdefault(key string) string {
	section, depth := "", 0
	sc := bufio.NewScanner(bytes.NewReader(c.text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			section, depth = strings.Trim(strings.TrimSuffix(line, "*"), "[] \t"), 0
			continue
		}
		if strings.HasSuffix(line, "{") {
			depth++
			continue
		}
		if line == "}" {
			depth--
			continue
		}
		if section != "libdefaults" || depth != 0 {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if ok && strings.TrimSpace(k) == key {
			return strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return ""
}

// ccacheName is a resolved ticket cache: its name as given and where it came from.
type ccacheName struct {
	name, source string
}

// resolveCCache picks the ticket cache name the way MIT libkrb5 does: KRB5CCNAME, then
// default_ccache_name, then FILE:/tmp/krb5cc_%{uid}.
func resolveCCache(o *Options, c *krb5Conf) ccacheName {
	if o.CCache != "" {
		return ccacheName{o.CCache, "Options.CCache"}
	}
	if v := o.Getenv("KRB5CCNAME"); v != "" {
		return ccacheName{v, "KRB5CCNAME"}
	}
	if v := c.libdefault("default_ccache_name"); v != "" {
		return ccacheName{expandTokens(v, o.Getenv), c.path + " default_ccache_name"}
	}
	return ccacheName{"FILE:/tmp/krb5cc_" + strconv.Itoa(os.Getuid()), "default"}
}

// expandTokens expands the parameters MIT allows in default_ccache_name (krb5.conf(5),
// "PARAMETER EXPANSION").
func expandTokens(s string, getenv func(string) string) string {
	uid := strconv.Itoa(os.Getuid())
	tmp := getenv("TMPDIR")
	if tmp == "" {
		tmp = "/tmp"
	}
	r := []string{"%{uid}", uid, "%{euid}", strconv.Itoa(os.Geteuid()), "%{USERID}", uid, "%{TEMP}", tmp, "%{null}", ""}
	if u, err := user.Current(); err == nil {
		r = append(r, "%{username}", u.Username)
	}
	return strings.NewReplacer(r...).Replace(s)
}

// ccachePath maps a cache name to the file holding the primary cache, or fails with
// ErrUnsupportedCCache for caches that are not files.
func ccachePath(n ccacheName) (string, error) {
	typ, residual, ok := strings.Cut(n.name, ":")
	if !ok || strings.HasPrefix(n.name, "/") {
		return n.name, nil // a bare path is a FILE: cache
	}
	switch strings.ToUpper(typ) {
	case "FILE", "WRFILE":
		return residual, nil
	case "DIR":
		if strings.HasPrefix(residual, ":") {
			return residual[1:], nil // DIR::/dir/tktNAME names one cache of the collection
		}
		// The collection's primary cache is named in dir/primary (default "tkt").
		primary := "tkt"
		if b, err := os.ReadFile(residual + "/primary"); err == nil {
			if p := strings.TrimSpace(string(b)); p != "" && !strings.Contains(p, "/") {
				primary = p
			}
		}
		return residual + "/" + primary, nil
	}
	return "", &TicketError{Kind: ErrUnsupportedCCache, CCache: n.name, Source: n.source}
}
