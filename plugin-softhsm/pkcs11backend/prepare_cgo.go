//go:build cgo

package pkcs11backend

import "time"

// Prepare loads and initializes the PKCS#11 module the key URI names and finds its token,
// before the host's first request asks for them (plugins.Preparer): dlopen and
// C_Initialize of a module cost SoftHSM2 about 10 ms, which now overlap the plugin's
// handshake and the host's gRPC connection. It does not log in (it has no PIN). Whatever
// fails here is forgotten, as loadModule and findToken forget failures, and the first
// request meets and reports it.
func (b *Backend) Prepare(keyURI string) {
	var err error
	defer recoverPanic("prepare", &err)
	start := time.Now()
	sel, err := parseSelector(keyURI, b.opts.DefaultModulePath)
	if err != nil {
		return
	}
	m, err := loadModule(sel.modulePath)
	if err != nil {
		return
	}
	if _, err = m.findToken(&sel.token); err != nil {
		b.log.Debug("prepare: token not found yet; the first request will look again", "error", err.Error())
		return
	}
	b.log.Debug("prepare: module loaded and token found", "module", sel.modulePath, "elapsed", time.Since(start).String())
}
