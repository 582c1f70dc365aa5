//go:build pkcs11

package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/miekg/pkcs11"
)

var (
	module = flag.String("module", "/usr/lib/softhsm/libsofthsm2.so", "PKCS#11 module")
	token  = flag.String("token", "", "token label")
	object = flag.String("object", "", "CKA_LABEL of the key holding \"AWS4\"+secret")
)

// dateKey is kDate computed by the token with CKM_SHA256_HMAC, the way a helper that
// re-initialises PKCS#11 for every signature does it (aws-pkcs-process-credential):
// load the module, C_Initialize, C_OpenSession, C_Login with $PKCS11_PIN, find the key,
// C_SignInit + C_Sign, then log out, close and C_Finalize.
func dateKey(date string) ([]byte, error) {
	pin := os.Getenv("PKCS11_PIN")
	if pin == "" {
		return nil, errors.New("set PKCS11_PIN to the token's user PIN")
	}
	p := pkcs11.New(*module)
	if p == nil {
		return nil, fmt.Errorf("cannot load PKCS#11 module %s", *module)
	}
	defer p.Destroy()
	if err := p.Initialize(); err != nil {
		return nil, fmt.Errorf("C_Initialize: %w", err)
	}
	defer p.Finalize()
	slots, err := p.GetSlotList(true)
	if err != nil {
		return nil, fmt.Errorf("C_GetSlotList: %w", err)
	}
	slot, found := uint(0), false
	for _, s := range slots {
		if ti, err := p.GetTokenInfo(s); err == nil && ti.Label == *token {
			slot, found = s, true
			break
		}
	}
	if !found {
		return nil, fmt.Errorf("no token labelled %q", *token)
	}
	sh, err := p.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		return nil, fmt.Errorf("C_OpenSession: %w", err)
	}
	defer p.CloseSession(sh)
	if err := p.Login(sh, pkcs11.CKU_USER, pin); err != nil {
		return nil, fmt.Errorf("C_Login: %w", err)
	}
	defer p.Logout(sh)
	// Found as the PKCS#11 plugin finds it: a secret key with this CKA_LABEL.
	if err := p.FindObjectsInit(sh, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, *object),
	}); err != nil {
		return nil, fmt.Errorf("C_FindObjectsInit: %w", err)
	}
	keys, _, err := p.FindObjects(sh, 2)
	if ferr := p.FindObjectsFinal(sh); err == nil {
		err = ferr
	}
	if err != nil {
		return nil, fmt.Errorf("C_FindObjects: %w", err)
	}
	if len(keys) != 1 {
		return nil, fmt.Errorf("%d secret keys labelled %q on token %q, want 1", len(keys), *object, *token)
	}
	if err := p.SignInit(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_SHA256_HMAC, nil)}, keys[0]); err != nil {
		return nil, fmt.Errorf("C_SignInit: %w", err)
	}
	mac, err := p.Sign(sh, []byte(date))
	if err != nil {
		return nil, fmt.Errorf("C_Sign: %w", err)
	}
	return mac, nil
}
