package spnego

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/krberror"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// session is a gokrb5 client holding one ticket-granting ticket.
type session struct {
	cl        *client.Client
	principal string // alice@REALM
	realm     string
	end       time.Time // the TGT's end time
}

// login obtains a session: from the ticket cache, or by an AS exchange with a keytab.
type login func() (*session, error)

// sessions hands out the current session and logs in again once its TGT has expired:
// a new kinit is picked up, and a keytab login renews itself.
type sessions struct {
	login login
	now   func() time.Time

	mu  sync.Mutex
	cur *session
}

// drop forgets cur, so that the next get logs in again.
func (s *sessions) drop(cur *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == cur {
		s.cur = nil
	}
}

func (s *sessions) get() (*session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil && s.now().Before(s.cur.end) {
		return s.cur, nil
	}
	cur, err := s.login()
	if err != nil {
		return nil, err
	}
	s.cur = cur
	return cur, nil
}

// gokrb5Settings: no logger (nothing is logged), and no PA-FX-FAST padata, which Active
// Directory KDCs reject from gokrb5.
func gokrb5Settings(s *client.Settings) {
	client.DisablePAFXFAST(true)(s)
}

// ccacheLogin reads the ticket cache each time it is called, so a fresh kinit is seen.
func ccacheLogin(c *krb5Conf, name ccacheName, now func() time.Time) login {
	return func() (*session, error) {
		path, err := ccachePath(name)
		if err != nil {
			return nil, err
		}
		noTicket := func(err error) error {
			return &TicketError{Kind: ErrNoTicket, CCache: name.name, Source: name.source, Err: err}
		}
		b, err := readFile(path, maxCCache)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				err = nil // "no Kerberos ticket" says it all
			}
			return nil, noTicket(err)
		}
		cc, err := parseCCache(b)
		if err != nil {
			return nil, noTicket(err)
		}
		realm := cc.GetClientRealm()
		principal := cc.GetClientPrincipalName().PrincipalNameString() + "@" + realm
		tgt, ok := cc.GetEntry(types.PrincipalName{NameType: nametype.KRB_NT_SRV_INST, NameString: []string{"krbtgt", realm}})
		if !ok {
			return nil, noTicket(fmt.Errorf("the cache of %s holds no ticket-granting ticket", principal))
		}
		if !now().Before(tgt.EndTime) {
			return nil, &TicketError{Kind: ErrTicketExpired, CCache: name.name, Source: name.source,
				Principal: principal, Expired: tgt.EndTime}
		}
		if err := c.checkRealm(realm, "get tickets for "+principal); err != nil {
			return nil, err
		}
		cl, err := client.NewFromCCache(cc, c.conf, gokrb5Settings)
		if err != nil {
			return nil, noTicket(err)
		}
		return &session{cl: cl, principal: principal, realm: realm, end: tgt.EndTime}, nil
	}
}

// errStaleKey: the keytab's key is not the principal's current key.
var errStaleKey = errors.New("its key is not the current key of the principal (was the password changed or the keytab exported again?): make a new keytab")

// keytabLogin logs in with an AS exchange, using the keytab's key, each time it is called.
func keytabLogin(c *krb5Conf, path, principal string) (login, error) {
	kt, err := loadKeytab(path)
	if err != nil {
		return nil, &KeytabError{Path: path, Principal: principal, Err: err}
	}
	name, realm, err := keytabPrincipal(kt, principal, c.conf.LibDefaults.DefaultRealm)
	if err != nil {
		return nil, &KeytabError{Path: path, Principal: principal, Err: err}
	}
	full := name + "@" + realm
	op := "log in " + full + " from keytab " + path
	if err := c.checkRealm(realm, op); err != nil {
		return nil, err
	}
	return func() (*session, error) {
		ktcl := client.NewWithKeytab(name, realm, kt, c.conf, gokrb5Settings)
		req, err := messages.NewASReqForTGT(realm, c.conf, ktcl.Credentials.CName())
		if err != nil {
			return nil, &KDCError{Op: op, Realm: realm, KDCs: c.kdcs(realm), Krb5Conf: c.path, Err: err}
		}
		rep, err := ktcl.ASExchange(realm, req, 0)
		if err != nil {
			var ke krberror.Krberror
			if errors.As(err, &ke) && ke.RootCause == krberror.DecryptingError {
				// The KDC answered (without pre-authentication) but the keytab's key cannot read
				// the reply. (With pre-authentication the KDC refuses: KDC_ERR_PREAUTH_FAILED.)
				return nil, &KeytabError{Path: path, Principal: full, Err: fmt.Errorf("%w: %s", errStaleKey, detail(err))}
			}
			return nil, &KDCError{Kind: classify(err), Op: op, Realm: realm, KDCs: c.kdcs(realm), Krb5Conf: c.path, Err: err}
		}
		// gokrb5's Login keeps the TGT in a session with a renewal goroutine that lives as long
		// as the process; an in-memory ccache holding the TGT gives a client without one.
		cc, err := ccacheFromASRep(rep)
		if err != nil {
			return nil, &KDCError{Op: op, Realm: realm, KDCs: c.kdcs(realm), Krb5Conf: c.path, Err: err}
		}
		cl, err := client.NewFromCCache(cc, c.conf, gokrb5Settings)
		if err != nil {
			return nil, &KDCError{Op: op, Realm: realm, KDCs: c.kdcs(realm), Krb5Conf: c.path, Err: err}
		}
		return &session{cl: cl, principal: rep.CName.PrincipalNameString() + "@" + rep.CRealm, realm: rep.CRealm,
			end: rep.DecryptedEncPart.EndTime}, nil
	}, nil
}

// readFile reads at most limit+1 bytes of a file (parsers reject what is longer).
func readFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit+1))
}

func loadKeytab(path string) (*keytab.Keytab, error) {
	b, err := readFile(path, 1<<20)
	if err != nil {
		return nil, err
	}
	return parseKeytab(b)
}

// parseKeytab parses an MIT keytab; gokrb5's parser may panic on truncated input.
func parseKeytab(b []byte) (kt *keytab.Keytab, err error) {
	if len(b) > 1<<20 {
		return nil, errors.New("the keytab is larger than 1 MiB")
	}
	defer func() {
		if recover() != nil {
			kt, err = nil, errors.New("the keytab is truncated or corrupt")
		}
	}()
	kt = keytab.New()
	if err := kt.Unmarshal(b); err != nil {
		return nil, fmt.Errorf("the keytab cannot be parsed: %w", err)
	}
	return kt, nil
}

// keytabPrincipal resolves the client principal: the one given ("name" or "name@REALM"),
// else the keytab's only one. It must have a key in the keytab.
func keytabPrincipal(kt *keytab.Keytab, principal, defaultRealm string) (name, realm string, err error) {
	held := map[string]bool{}
	for _, e := range kt.Entries {
		held[strings.Join(e.Principal.Components, "/")+"@"+e.Principal.Realm] = true
	}
	var list []string
	for p := range held {
		list = append(list, p)
	}
	sort.Strings(list)
	if principal == "" {
		if len(list) != 1 {
			return "", "", fmt.Errorf("the keytab holds %d principals (%s): set the principal", len(list), strings.Join(list, ", "))
		}
		principal = list[0]
	}
	name, realm, ok := strings.Cut(principal, "@")
	if !ok || realm == "" {
		if defaultRealm == "" {
			return "", "", errors.New("no realm: write the principal as name@REALM or set default_realm in krb5.conf")
		}
		realm = defaultRealm
	}
	if !held[name+"@"+realm] {
		return "", "", fmt.Errorf("the keytab holds no key for %s@%s (it holds %s)", name, realm, strings.Join(list, ", "))
	}
	return name, realm, nil
}

// ccacheFromASRep puts the TGT of an AS reply into an in-memory credential cache.
func ccacheFromASRep(rep messages.ASRep) (*credentials.CCache, error) {
	tkt, err := rep.Ticket.Marshal()
	if err != nil {
		return nil, fmt.Errorf("encode the TGT: %w", err)
	}
	part := rep.DecryptedEncPart
	cc := &credentials.CCache{Version: 4}
	cc.DefaultPrincipal.Realm = rep.CRealm
	cc.DefaultPrincipal.PrincipalName = rep.CName
	cred := &credentials.Credential{
		Key:       part.Key,
		AuthTime:  part.AuthTime,
		StartTime: part.StartTime,
		EndTime:   part.EndTime,
		RenewTill: part.RenewTill,
		Ticket:    tkt,
	}
	cred.Client = cc.DefaultPrincipal
	cred.Server.Realm = rep.Ticket.Realm
	cred.Server.PrincipalName = rep.Ticket.SName
	cc.Credentials = []*credentials.Credential{cred}
	return cc, nil
}
