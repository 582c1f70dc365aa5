package spnego

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/jcmturner/gokrb5/v8/krberror"
)

// Sentinel errors, for errors.Is. The typed errors below carry the detail and wrap one of
// them.
var (
	// ErrConfig: krb5.conf is missing or cannot be parsed, or names no default realm
	// where one is needed.
	ErrConfig = errors.New("bad Kerberos configuration")
	// ErrNoTicket: there is no ticket cache, or it holds no ticket-granting ticket.
	ErrNoTicket = errors.New("no Kerberos ticket: run kinit")
	// ErrTicketExpired: the ticket-granting ticket in the cache has expired.
	ErrTicketExpired = errors.New("the Kerberos ticket expired: run kinit")
	// ErrUnsupportedCCache: the ticket cache is of a kind Go cannot read (KEYRING:, KCM:,
	// MEMORY:, API:).
	ErrUnsupportedCCache = errors.New("unsupported Kerberos ticket cache type")
	// ErrKeytab: the keytab cannot be read or holds no key for the principal.
	ErrKeytab = errors.New("unusable keytab")
	// ErrKDCUnreachable: no KDC of the realm answered (or krb5.conf lists none).
	ErrKDCUnreachable = errors.New("cannot reach the KDC")
	// ErrKDCRefused: the KDC answered with a Kerberos error (unknown service principal,
	// wrong key in the keytab, disabled account, ...).
	ErrKDCRefused = errors.New("the KDC refused the request")
	// ErrRejected: the web server answered 401 to the request that carried the token.
	ErrRejected = errors.New("the server rejected the Kerberos token")
	// ErrBodyNotReplayable: the server asked for Negotiate after the request body was sent,
	// and the request has no GetBody to send it again.
	ErrBodyNotReplayable = errors.New("request body cannot be sent twice")
)

// ConfigError says which krb5.conf could not be used and why. It wraps ErrConfig.
type ConfigError struct {
	Path string // the krb5.conf path, and where it came from
	Err  error
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("spnego: Kerberos configuration %s: %v", e.Path, e.Err)
}

// Unwrap returns ErrConfig and the cause.
func (e *ConfigError) Unwrap() []error { return nonNil(ErrConfig, e.Err) }

// TicketError says why the ticket cache cannot be used. Kind is ErrNoTicket,
// ErrTicketExpired or ErrUnsupportedCCache.
type TicketError struct {
	Kind      error
	CCache    string    // the cache's name, e.g. FILE:/tmp/krb5cc_1000
	Source    string    // where the name came from: Options.CCache, KRB5CCNAME, krb5.conf, default
	Principal string    // the cache's client principal, when known
	Expired   time.Time // when the ticket-granting ticket expired (ErrTicketExpired)
	Err       error     // the cause, if any (e.g. the file's *fs.PathError)
}

func (e *TicketError) Error() string {
	switch e.Kind {
	case ErrTicketExpired:
		return fmt.Sprintf("spnego: the Kerberos ticket of %s in %s expired at %s: run kinit",
			e.Principal, e.CCache, e.Expired.Local().Format(time.RFC3339))
	case ErrUnsupportedCCache:
		return fmt.Sprintf("spnego: the Kerberos ticket cache %s (from %s) is not a file, and only file caches can be read: "+
			"run kinit -c FILE:/tmp/krb5cc_$(id -u) and set KRB5CCNAME=FILE:/tmp/krb5cc_$(id -u)", e.CCache, e.Source)
	}
	msg := fmt.Sprintf("spnego: no Kerberos ticket in %s (from %s): run kinit", e.CCache, e.Source)
	if e.Err != nil {
		msg += " (" + e.Err.Error() + ")"
	}
	return msg
}

// Unwrap returns Kind and the cause.
func (e *TicketError) Unwrap() []error { return nonNil(e.Kind, e.Err) }

// KeytabError says why a keytab login cannot start. It wraps ErrKeytab.
type KeytabError struct {
	Path      string
	Principal string // as asked for; empty: the keytab's only one
	// Source is where Path came from: "KRB5_CLIENT_KTNAME", or empty for Options.Keytab.
	Source string
	Err    error
}

func (e *KeytabError) Error() string {
	s := "spnego: keytab " + e.Path
	if e.Source != "" {
		s += " (from " + e.Source + ")"
	}
	if e.Principal != "" {
		s += " for " + e.Principal
	}
	s += fmt.Sprintf(": %v", e.Err)
	if e.Source == envClientKeytab && errors.Is(e.Err, os.ErrNotExist) {
		s += ": export the principal's keys there (kadmin: ktadd -k PATH), or unset " + envClientKeytab + " to use the ticket cache from kinit"
	}
	return s
}

// Unwrap returns ErrKeytab and the cause.
func (e *KeytabError) Unwrap() []error { return nonNil(ErrKeytab, e.Err) }

// KDCError is a failed exchange with the KDC. Kind is ErrKDCUnreachable or ErrKDCRefused
// (nil when gokrb5's error could not be classified).
type KDCError struct {
	Kind     error
	Op       string   // what was asked: "log in bob@R from keytab", "get a ticket for HTTP/idp"
	Realm    string   // the realm whose KDC was asked
	KDCs     []string // the KDCs krb5.conf lists for Realm
	Krb5Conf string   // the krb5.conf path
	Err      error
}

func (e *KDCError) Error() string {
	where := e.Krb5Conf
	if len(e.KDCs) > 0 {
		where = strings.Join(e.KDCs, ", ") + " from " + e.Krb5Conf
	}
	switch e.Kind {
	case ErrKDCUnreachable:
		if len(e.KDCs) == 0 && e.Err == errNoKDCListed {
			return fmt.Sprintf("spnego: cannot reach the KDC for %[1]s: %[2]s lists no kdc for it (and dns_lookup_kdc is off): "+
				"add %[1]s = { kdc = HOST } under [realms], or point KRB5_CONFIG at the realm's krb5.conf", e.Realm, e.Krb5Conf)
		}
		return fmt.Sprintf("spnego: cannot reach the KDC for %s (%s) to %s: %s", e.Realm, where, e.Op, detail(e.Err))
	case ErrKDCRefused:
		return fmt.Sprintf("spnego: the KDC for %s (%s) refused to %s: %s", e.Realm, where, e.Op, detail(e.Err))
	}
	return fmt.Sprintf("spnego: %s (KDC for %s at %s): %s", e.Op, e.Realm, where, detail(e.Err))
}

// Unwrap returns Kind and the cause.
func (e *KDCError) Unwrap() []error { return nonNil(e.Kind, e.Err) }

var errNoKDCListed = errors.New("no KDC listed")

// RejectedError is a 401 answer to a request that carried a SPNEGO token. It wraps
// ErrRejected.
type RejectedError struct {
	URL        string // the request URL without query
	SPN        string // the service principal the ticket was for
	Principal  string // the client principal
	StatusCode int
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("spnego: %s answered HTTP %d to the Kerberos ticket of %s for %s: the server's keytab may not hold the "+
		"current key of %s (or the server uses another name: set the SPN), the clocks may differ by more than 5 minutes, "+
		"or the server does not accept %s", e.URL, e.StatusCode, e.Principal, e.SPN, e.SPN, e.Principal)
}

// Unwrap returns ErrRejected.
func (e *RejectedError) Unwrap() error { return ErrRejected }

// classify maps a gokrb5 error from a KDC exchange to ErrKDCUnreachable or ErrKDCRefused by
// its typed root cause.
func classify(err error) error {
	var ke krberror.Krberror
	if errors.As(err, &ke) {
		switch ke.RootCause {
		case krberror.NetworkingError:
			return ErrKDCUnreachable
		case krberror.KDCError:
			return ErrKDCRefused
		}
	}
	return nil
}

// detail renders a gokrb5 error without its "[Root cause: X]" banner.
func detail(err error) string {
	var ke krberror.Krberror
	if errors.As(err, &ke) && len(ke.EText) > 0 {
		return strings.Join(ke.EText, ": ")
	}
	if err == nil {
		return "unknown error"
	}
	return err.Error()
}

func nonNil(errs ...error) []error {
	out := errs[:0:0]
	for _, err := range errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}
