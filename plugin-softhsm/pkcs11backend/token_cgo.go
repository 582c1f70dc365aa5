//go:build cgo

package pkcs11backend

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"

	"github.com/miekg/pkcs11"

	"github.com/awskeep/awskeep/plugins"
)

// maxIdleSessions bounds the sessions a token keeps open between requests. SoftHSM does
// not compute faster with more (FACTS: it serializes on the key file); more only cost
// memory on the token.
const maxIdleSessions = 8

// pinKey keys the PIN fingerprints below. It is random per process, so a fingerprint in
// a core dump says nothing about the PIN to anyone without the same dump's key.
var pinKey = func() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k) // crypto/rand.Read never fails (Go 1.24+)
	return k
}()

func pinFingerprint(pin string) []byte {
	m := hmac.New(sha256.New, pinKey)
	m.Write([]byte(pin))
	return m.Sum(nil)
}

// token is the process's state for one token: its login and its idle sessions.
type token struct {
	m      *module
	slot   uint
	label  string
	serial string

	// loginMu serializes logins, so that concurrent first requests try the PIN once.
	loginMu  sync.Mutex
	loggedIn bool
	pinFP    []byte               // fingerprint of the PIN that logged in
	anchor   pkcs11.SessionHandle // the login session, never closed (see login)

	// writeMu serializes ImportKey and DeleteKey on the token, so that two imports in this
	// process cannot both find the name free. Other processes are not covered: PKCS#11
	// has no way to lock a token.
	writeMu sync.Mutex

	// datesOnce and datesReadable: whether the token can read back the CKA_START_DATE of a
	// private key (see startDate), probed once.
	datesOnce     sync.Once
	datesReadable bool

	poolMu sync.Mutex
	idle   []pkcs11.SessionHandle
	gone   bool
}

// login logs the user in with pin, once per process (PKCS#11 v2.40 section 5.6: the login
// state is shared by all sessions of an application). The PIN goes to the token at most
// once per request and a failure is returned, never retried: tokens lock the PIN after a
// few failures.
//
// Once logged in, C_Login would answer CKR_USER_ALREADY_LOGGED_IN without looking at the
// PIN, so a request carrying a different PIN than the one that logged in is refused here;
// otherwise anyone reaching this process could use the key with any PIN.
//
// The session that logged in stays open for the life of the process: when the last
// session of an application closes, the token logs it out (v2.40 section 5.6 C_CloseSession),
// and pooled sessions come and go.
func (t *token) login(pin string) error {
	t.loginMu.Lock()
	defer t.loginMu.Unlock()
	if t.loggedIn {
		if !hmac.Equal(t.pinFP, pinFingerprint(pin)) {
			return t.otherPIN()
		}
		return nil
	}
	p := t.m.p
	// Fresh flags: another process may have locked the PIN since the token was found.
	ti, err := p.GetTokenInfo(t.slot)
	if err != nil {
		return fmt.Errorf("pkcs11: token %q: %w", t.label, ckr(err))
	}
	protected := ti.Flags&pkcs11.CKF_PROTECTED_AUTHENTICATION_PATH != 0
	if pin == "" && !protected {
		if ti.Flags&pkcs11.CKF_LOGIN_REQUIRED == 0 {
			return nil // public token: nothing to log in to
		}
		return fmt.Errorf("pkcs11: token %q needs a PIN: add pin-source= to the URI or set AWSKEEP_PIN: %w",
			t.label, plugins.ErrPINIncorrect)
	}
	if ti.Flags&pkcs11.CKF_USER_PIN_LOCKED != 0 {
		return fmt.Errorf("pkcs11: login to token %q: the token says the user PIN is locked (CKF_USER_PIN_LOCKED); not tried: %w",
			t.label, newCKRError(ckrPINLocked, "CKR_PIN_LOCKED"))
	}
	if ti.Flags&pkcs11.CKF_USER_PIN_INITIALIZED == 0 {
		return fmt.Errorf("pkcs11: login to token %q: %w", t.label, newCKRError(ckrUserPINNotInitialized, "CKR_USER_PIN_NOT_INITIALIZED"))
	}
	sh, err := p.OpenSession(t.slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return fmt.Errorf("pkcs11: open session on token %q: %w", t.label, ckr(err))
	}
	// With a protected authentication path the PIN is entered on the device; PKCS#11
	// v2.40 section 5.6 C_Login: pPin is then ignored.
	fp := pinFingerprint(pin)
	err = p.Login(sh, pkcs11.CKU_USER, pin)
	switch {
	case err == nil:
	case code(err) == ckrUserAlreadyLoggedIn:
		// The token did not look at the PIN. If this process logged in before (the token
		// was forgotten after an error but kept its login), hold the PIN to that login's.
		// Otherwise another part of the process logged in; nothing in awskeep does.
		if prev := t.m.loginFingerprint(t); prev != nil && !hmac.Equal(prev, fp) {
			_ = p.CloseSession(sh)
			return t.otherPIN()
		}
	default:
		_ = p.CloseSession(sh)
		return fmt.Errorf("pkcs11: login to token %q: %w", t.label, ckr(err))
	}
	t.anchor, t.loggedIn, t.pinFP = sh, true, fp
	t.m.setLoginFingerprint(t, fp)
	return nil
}

// otherPIN is the error for a request whose PIN differs from the one this process logged
// in with. The token is not asked: once logged in it would accept any PIN.
func (t *token) otherPIN() error {
	return fmt.Errorf("pkcs11: login to token %q: this process is logged in with another PIN, and the token would not check a second one; not tried: %w",
		t.label, plugins.ErrPINIncorrect)
}

func (m *module) loginFingerprint(t *token) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.logins[t.serial+"\x00"+t.label]
}

func (m *module) setLoginFingerprint(t *token, fp []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.logins[t.serial+"\x00"+t.label] = fp
}

// session takes an idle session or opens one. Sessions are read-write: ImportKey and
// DeleteKey change token objects, and a read-write session can do everything.
func (t *token) session() (pkcs11.SessionHandle, error) {
	t.poolMu.Lock()
	if n := len(t.idle); n > 0 {
		sh := t.idle[n-1]
		t.idle = t.idle[:n-1]
		t.poolMu.Unlock()
		return sh, nil
	}
	t.poolMu.Unlock()
	sh, err := t.m.p.OpenSession(t.slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return 0, fmt.Errorf("pkcs11: open session on token %q: %w", t.label, ckr(err))
	}
	return sh, nil
}

// release returns sh to the pool, or closes it when it saw a module error (its state is
// then unknown, e.g. a search left open) or the pool is full.
func (t *token) release(sh pkcs11.SessionHandle, healthy bool) {
	if healthy {
		t.poolMu.Lock()
		if !t.gone && len(t.idle) < maxIdleSessions {
			t.idle = append(t.idle, sh)
			t.poolMu.Unlock()
			return
		}
		t.poolMu.Unlock()
	}
	_ = t.m.p.CloseSession(sh)
}

// session is one request's view of a token: the module, a pooled session and the token.
type session struct {
	p   *pkcs11.Ctx
	h   pkcs11.SessionHandle
	tok *token
}

// withSession finds the token sel names, logs in with pin, and runs fn on a pooled
// session. It returns the session to the pool unless fn failed inside the module (or
// panicked), and forgets the token when the module said it is gone.
func withSession(sel *selector, pin string, fn func(s *session) error) (err error) {
	m, err := loadModule(sel.modulePath)
	if err != nil {
		return err
	}
	tok, err := m.findToken(&sel.token)
	if err != nil {
		return err
	}
	if err := tok.login(pin); err != nil {
		if unavailable(errCode(err)) {
			m.forget(tok)
		}
		return err
	}
	sh, err := tok.session()
	if err != nil {
		if unavailable(errCode(err)) {
			m.forget(tok)
		}
		return err
	}
	healthy := false
	defer func() { tok.release(sh, healthy) }()
	err = fn(&session{p: m.p, h: sh, tok: tok})
	var ce *CKRError
	healthy = !errors.As(err, &ce)
	if ce != nil && unavailable(ce.Code) {
		m.forget(tok)
	}
	return err
}

// errCode returns the CK_RV inside err, or 0.
func errCode(err error) uint {
	var ce *CKRError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return 0
}
