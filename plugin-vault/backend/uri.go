package backend

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// Scheme is the key URI scheme this backend serves.
const Scheme = "vault"

// DefaultAddr is Vault's own default address (the vault CLI's), used when neither the URI's
// addr nor $VAULT_ADDR says otherwise.
const DefaultAddr = "https://127.0.0.1:8200"

// DefaultMount is where Vault mounts the transit engine unless told otherwise.
const DefaultMount = "transit"

func init() {
	keyuri.Register(Scheme, keyuri.Schema{
		Path:     []string{"key"},
		Query:    []string{"addr", "mount", "namespace", "auth", "auth-mount", "role-id"},
		Required: []string{"key"},
		Check:    checkURI,
	})
}

// keyRef is what a vault key URI says, with the environment's defaults filled in.
type keyRef struct {
	name      string // transit key name
	addr      string // scheme://host[:port], no trailing slash
	mount     string // transit mount path, no slashes at either end
	namespace string
	// AppRole login: roleID set means Key.PIN is the secret ID.
	roleID    string
	authMount string
}

func (r keyRef) String() string {
	return fmt.Sprintf("transit key %q at %s/v1/%s", r.name, r.addr, r.mount)
}

// checkURI validates attribute values for keyuri.Parse: names that could not form a path
// segment, mounts that climb out of /v1, addresses that are not http(s) URLs.
func checkURI(u *keyuri.URI) error {
	name, _ := u.PathAttr("key")
	if err := checkName("key", name); err != nil {
		return err
	}
	if v, ok := u.QueryAttr("addr"); ok {
		if _, err := parseAddr(v); err != nil {
			return err
		}
	}
	for _, attr := range []string{"mount", "auth-mount"} {
		if v, ok := u.QueryAttr(attr); ok {
			if err := checkMount(attr, v); err != nil {
				return err
			}
		}
	}
	if v, ok := u.QueryAttr("namespace"); ok {
		if err := checkMount("namespace", v); err != nil {
			return err
		}
	}
	auth, hasAuth := u.QueryAttr("auth")
	roleID, hasRole := u.QueryAttr("role-id")
	switch {
	case hasAuth && auth != "token" && auth != "approle":
		return fmt.Errorf("auth=%q: want token (the PIN is a Vault token, the default) or approle (the PIN is an AppRole secret ID)", auth)
	case auth == "approle" && (!hasRole || roleID == ""):
		return errors.New("auth=approle needs role-id=")
	case hasRole && auth != "approle":
		return errors.New("role-id= needs auth=approle")
	}
	if _, ok := u.QueryAttr("auth-mount"); ok && auth != "approle" {
		return errors.New("auth-mount= needs auth=approle")
	}
	return nil
}

// checkName accepts what transit accepts as a key name and what is safe as one path
// segment: letters, digits, '-', '_' and '.', not "." or "..".
func checkName(attr, s string) error {
	if s == "" || s == "." || s == ".." || len(s) > 128 {
		return fmt.Errorf("%s=%q: want 1 to 128 letters, digits, '-', '_' or '.'", attr, printable(s))
	}
	for i := 0; i < len(s); i++ {
		if !nameChar(s[i]) {
			return fmt.Errorf("%s=%q: want letters, digits, '-', '_' or '.'", attr, printable(s))
		}
	}
	return nil
}

// checkMount accepts a Vault path of name segments separated by '/' (mounts and namespaces
// may nest), without empty, "." or ".." segments.
func checkMount(attr, s string) error {
	if s == "" {
		return fmt.Errorf("%s= is empty", attr)
	}
	for _, seg := range strings.Split(strings.Trim(s, "/"), "/") {
		if err := checkName(attr, seg); err != nil {
			return fmt.Errorf("%s=%q: want path segments of letters, digits, '-', '_' or '.', separated by '/'", attr, printable(s))
		}
	}
	return nil
}

func nameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
}

// parseAddr accepts an http or https URL of a host, with an optional port and nothing
// else, as VAULT_ADDR takes it; a trailing slash is dropped.
func parseAddr(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || strings.Trim(u.Path, "/") != "" {
		return "", fmt.Errorf("addr=%q: want an http or https URL of the Vault server such as %s", printable(s), DefaultAddr)
	}
	return u.Scheme + "://" + u.Host, nil
}

// printable keeps control characters of a rejected value out of error text.
func printable(s string) string {
	if len(s) > 256 {
		s = s[:256] + "..."
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

// parseKey reads a key URI of the vault scheme; getenv supplies $VAULT_ADDR and
// $VAULT_NAMESPACE when the URI leaves them out. Errors wrap plugins.ErrInvalidKeyURI.
func parseKey(raw string, getenv func(string) string) (keyRef, error) {
	u, err := keyuri.ParseFor(Scheme, raw)
	if err != nil {
		return keyRef{}, fmt.Errorf("vault: %w", err)
	}
	ref := keyRef{mount: DefaultMount, addr: DefaultAddr, authMount: "approle"}
	ref.name, _ = u.PathAttr("key")
	addr, ok := u.QueryAttr("addr")
	if !ok {
		addr = getenv("VAULT_ADDR")
	}
	if addr != "" {
		if ref.addr, err = parseAddr(addr); err != nil {
			if !ok {
				err = fmt.Errorf("$VAULT_ADDR: %w", err)
			}
			return keyRef{}, fmt.Errorf("vault: %w: %w", plugins.ErrInvalidKeyURI, err)
		}
	}
	if v, ok := u.QueryAttr("mount"); ok {
		ref.mount = strings.Trim(v, "/")
	}
	ns, ok := u.QueryAttr("namespace")
	if !ok {
		ns = getenv("VAULT_NAMESPACE")
		if ns != "" {
			if err := checkMount("$VAULT_NAMESPACE", ns); err != nil {
				return keyRef{}, fmt.Errorf("vault: %w: %w", plugins.ErrInvalidKeyURI, err)
			}
		}
	}
	ref.namespace = strings.Trim(ns, "/")
	if v, ok := u.QueryAttr("auth"); ok && v == "approle" {
		ref.roleID, _ = u.QueryAttr("role-id")
		if m, ok := u.QueryAttr("auth-mount"); ok {
			ref.authMount = strings.Trim(m, "/")
		}
	}
	return ref, nil
}
