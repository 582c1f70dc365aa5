//go:build cgo

package pkcs11backend

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/miekg/pkcs11"

	"github.com/awskeep/awskeep/plugins"
)

// module is a loaded and initialized PKCS#11 module. Modules are never unloaded or
// finalized: C_Finalize would end every session and login of the process.
type module struct {
	path string
	p    *pkcs11.Ctx

	mu       sync.Mutex
	tokens   map[uint]*token   // by slot ID
	resolved map[string]*token // by tokenFilter.key(): earlier answers of findToken
	// logins holds, by token serial and label, the fingerprint of the PIN that logged in
	// to it. It outlives forget: a token that comes back may still be logged in, and
	// then C_Login no longer checks the PIN.
	logins map[string][]byte
}

// registry holds the modules of the process. PKCS#11 allows one C_Initialize per module
// per process (v2.40 section 5.4), so modules are shared by every Backend.
var registry = struct {
	mu      sync.Mutex
	modules map[string]*module // by the library's real path
	byName  map[string]*module // by the path as URIs give it, to skip EvalSymlinks
}{modules: make(map[string]*module), byName: make(map[string]*module)}

// loadModule returns the module at path, loading and initializing it on first use. A
// module that fails to load or initialize is not remembered, so a later request (after
// the user fixed the cause) tries again.
func loadModule(path string) (*module, error) {
	registry.mu.Lock()
	m, ok := registry.byName[path]
	registry.mu.Unlock()
	if ok {
		return m, nil
	}
	key := path
	if real, err := filepath.EvalSymlinks(path); err == nil {
		// Two names for one library are one module: initializing it twice under
		// different keys would track its login twice.
		key = real
	}
	// Held across dlopen and C_Initialize so that concurrent first requests initialize
	// the module once.
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if m, ok := registry.modules[key]; ok {
		registry.byName[path] = m
		return m, nil
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("pkcs11: module %q: no such file; install the token's PKCS#11 library or fix module-path= in the URI: %w",
			path, plugins.ErrDeviceUnavailable)
	case err != nil:
		return nil, fmt.Errorf("pkcs11: module %q: %v: %w", path, errors.Unwrap(err), plugins.ErrDeviceUnavailable)
	case fi.IsDir():
		return nil, fmt.Errorf("pkcs11: module %q is a directory, not a PKCS#11 module; fix module-path= in the URI: %w",
			path, plugins.ErrDeviceUnavailable)
	}
	p := pkcs11.New(path)
	if p == nil {
		return nil, fmt.Errorf("pkcs11: %q is not a PKCS#11 module (dlopen failed or it has no C_GetFunctionList); fix module-path= in the URI: %w",
			path, plugins.ErrDeviceUnavailable)
	}
	if err := p.Initialize(); err != nil && code(err) != ckrCryptokiAlreadyInit {
		p.Destroy()
		e := ckr(err)
		if ce := (*CKRError)(nil); errors.As(e, &ce) {
			// Whatever the module says, a module that does not start is unavailable.
			ce.Kind = plugins.ErrDeviceUnavailable
			if strings.Contains(path, "softhsm") {
				ce.Hint = "check that SOFTHSM2_CONF names a readable softhsm2.conf whose directories.tokendir exists"
			}
		}
		return nil, fmt.Errorf("pkcs11: initialize module %q: %w", path, e)
	}
	m = &module{path: path, p: p, tokens: make(map[uint]*token), resolved: make(map[string]*token),
		logins: make(map[string][]byte)}
	registry.modules[key] = m
	registry.byName[path] = m
	return m, nil
}

// findToken returns the one initialized token that f selects (RFC 7512 section 2.3:
// every attribute given must match). The answer is remembered: listing the slots costs a
// C_GetTokenInfo per slot, which SoftHSM serves from its files (about 150 us each under
// load). A token that goes away makes its sessions fail with a code that forget acts on,
// so the next request looks again; failed lookups are never remembered.
func (m *module) findToken(f *tokenFilter) (*token, error) {
	m.mu.Lock()
	t, ok := m.resolved[f.key()]
	m.mu.Unlock()
	if ok {
		return t, nil
	}
	t, err := m.scan(f)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	if m.tokens[t.slot] == t { // not forgotten meanwhile
		m.resolved[f.key()] = t
	}
	m.mu.Unlock()
	return t, nil
}

// scan lists the slots and matches their tokens against f.
func (m *module) scan(f *tokenFilter) (*token, error) {
	if f.libManufacturer != "" || f.libDescription != "" || f.libVersion != "" {
		info, err := m.p.GetInfo()
		if err != nil {
			return nil, fmt.Errorf("pkcs11: module %q: C_GetInfo: %w", m.path, ckr(err))
		}
		if !matchLibrary(f, info) {
			return nil, fmt.Errorf("pkcs11: module %q is not the library the URI asks for (library-manufacturer %q, library-description %q, version %d.%d): %w",
				m.path, padded(info.ManufacturerID), padded(info.LibraryDescription),
				info.LibraryVersion.Major, info.LibraryVersion.Minor, plugins.ErrDeviceUnavailable)
		}
	}
	slots, err := m.p.GetSlotList(true)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: module %q: list slots: %w", m.path, ckr(err))
	}
	type candidate struct {
		slot uint
		info pkcs11.TokenInfo
	}
	var matches []candidate
	var labels []string
	for _, slot := range slots {
		ti, err := m.p.GetTokenInfo(slot)
		if err != nil || ti.Flags&pkcs11.CKF_TOKEN_INITIALIZED == 0 {
			// A token pulled between the two calls, or SoftHSM's spare free slot.
			continue
		}
		labels = append(labels, strconv.Quote(padded(ti.Label)))
		if !matchToken(f, slot, ti) {
			continue
		}
		if f.slotDescription != "" || f.slotManufacturer != "" {
			si, err := m.p.GetSlotInfo(slot)
			if err != nil || !matchSlot(f, si) {
				continue
			}
		}
		matches = append(matches, candidate{slot, ti})
	}
	switch len(matches) {
	case 0:
		have := "no initialized tokens"
		if strings.Contains(m.path, "softhsm") {
			have += "; for SoftHSM check SOFTHSM2_CONF and create one with softhsm2-util --init-token"
		}
		if len(labels) > 0 {
			have = "tokens: " + strings.Join(labels, ", ")
		}
		return nil, fmt.Errorf("pkcs11: no token with %s in module %q (%s): %w",
			f, m.path, have, plugins.ErrDeviceUnavailable)
	case 1:
	default:
		var serials, names []string
		for _, c := range matches {
			serials = append(serials, padded(c.info.SerialNumber))
			names = append(names, strconv.Quote(padded(c.info.Label)))
		}
		if f.label == "" && distinct(names) {
			return nil, fmt.Errorf("pkcs11: %d tokens match %s in module %q; add token= to the URI (labels: %s): %w",
				len(matches), f, m.path, strings.Join(names, ", "), plugins.ErrAmbiguousKey)
		}
		return nil, fmt.Errorf("pkcs11: %d tokens match %s in module %q; add serial= to the URI (serials: %s): %w",
			len(matches), f, m.path, strings.Join(serials, ", "), plugins.ErrAmbiguousKey)
	}
	c := matches[0]
	return m.token(c.slot, c.info), nil
}

// token returns the cached state of the token in slot, or a fresh one if the slot now
// holds a different token than the one cached.
func (m *module) token(slot uint, ti pkcs11.TokenInfo) *token {
	label, serial := padded(ti.Label), padded(ti.SerialNumber)
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.tokens[slot]; ok && t.label == label && t.serial == serial {
		return t
	}
	t := &token{m: m, slot: slot, label: label, serial: serial}
	m.tokens[slot] = t
	return t
}

// forget drops t after the token reported that it, its slot or its login is gone, so the
// next request looks it up and logs in again. Sessions of a gone token are closed; the
// login session is left alone, since closing it could log out a replacement entry.
func (m *module) forget(t *token) {
	m.mu.Lock()
	if m.tokens[t.slot] == t {
		delete(m.tokens, t.slot)
	}
	for k, v := range m.resolved {
		if v == t {
			delete(m.resolved, k)
		}
	}
	m.mu.Unlock()
	t.poolMu.Lock()
	idle := t.idle
	t.idle, t.gone = nil, true
	t.poolMu.Unlock()
	for _, sh := range idle {
		_ = m.p.CloseSession(sh)
	}
}

func matchToken(f *tokenFilter, slot uint, ti pkcs11.TokenInfo) bool {
	return (f.label == "" || f.label == padded(ti.Label)) &&
		(f.serial == "" || f.serial == padded(ti.SerialNumber)) &&
		(f.manufacturer == "" || f.manufacturer == padded(ti.ManufacturerID)) &&
		(f.model == "" || f.model == padded(ti.Model)) &&
		(f.slotID == nil || *f.slotID == slot)
}

func matchSlot(f *tokenFilter, si pkcs11.SlotInfo) bool {
	return (f.slotDescription == "" || f.slotDescription == padded(si.SlotDescription)) &&
		(f.slotManufacturer == "" || f.slotManufacturer == padded(si.ManufacturerID))
}

func matchLibrary(f *tokenFilter, info pkcs11.Info) bool {
	if f.libManufacturer != "" && f.libManufacturer != padded(info.ManufacturerID) {
		return false
	}
	if f.libDescription != "" && f.libDescription != padded(info.LibraryDescription) {
		return false
	}
	if f.libVersion != "" {
		// RFC 7512 section 2.3: "M" means major M, minor 0.
		major, minor, _ := strings.Cut(f.libVersion, ".")
		if minor == "" {
			minor = "0"
		}
		if major != strconv.Itoa(int(info.LibraryVersion.Major)) || minor != strconv.Itoa(int(info.LibraryVersion.Minor)) {
			return false
		}
	}
	return true
}

// code returns the CK_RV of err, or 0 if err does not come from the module.
func code(err error) uint {
	var e pkcs11.Error
	if errors.As(err, &e) {
		return uint(e)
	}
	return 0
}

// ckr translates an error of the wrapper into a *CKRError. Errors that are not CK_RVs
// (none are expected) become ErrDevice.
func ckr(err error) error {
	var e pkcs11.Error
	if !errors.As(err, &e) {
		return fmt.Errorf("%v: %w", err, plugins.ErrDevice)
	}
	return newCKRError(uint(e), ckrName(e))
}

// ckrName extracts the CKR_* name from the wrapper's text "pkcs11: 0xA0: CKR_PIN_INCORRECT".
func ckrName(e pkcs11.Error) string {
	s := e.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && strings.HasPrefix(s[i+2:], "CKR_") {
		return s[i+2:]
	}
	return fmt.Sprintf("CKR 0x%X", uint(e))
}
