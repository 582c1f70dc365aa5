package backend

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/awskeep/awskeep/plugins"
)

// vaultError is a failure translated for the host: it unwraps both to the contract's
// sentinel and to the underlying error, so errors.Is works with either.
type vaultError struct {
	op       string
	sentinel error
	hint     string
	err      error
}

func (e *vaultError) Error() string {
	if e.hint != "" {
		return fmt.Sprintf("vault: %s: %v: %s (%v)", e.op, e.sentinel, e.hint, e.err)
	}
	return fmt.Sprintf("vault: %s: %v: %v", e.op, e.sentinel, e.err)
}

func (e *vaultError) Unwrap() []error { return []error{e.sentinel, e.err} }

// capability names, for hints, the policy path and capability an operation needs.
var capability = map[string]string{
	"hmac":     `"update" on %s/hmac/%s/sha2-256`,
	"describe": `"read" on %s/keys/%s`,
	"import":   `"read" on %s/wrapping_key and %s/keys/NAME, "update" on %s/keys/NAME/import (with --force also "update" on %s/keys/NAME/config and "delete" on %s/keys/NAME)`,
	"delete":   `"read" and "delete" on %s/keys/%s and "update" on %s/keys/%s/config (to set deletion_allowed, which transit requires before a delete)`,
	"login":    `"update" on auth/%s/login`,
}

func need(op string, ref keyRef) string {
	switch op {
	case "import":
		return fmt.Sprintf(capability[op], ref.mount, ref.mount, ref.mount, ref.mount, ref.mount)
	case "delete":
		return fmt.Sprintf(capability[op], ref.mount, ref.name, ref.mount, ref.name)
	case "login":
		return fmt.Sprintf(capability[op], ref.authMount)
	default:
		return fmt.Sprintf(capability[op], ref.mount, ref.name)
	}
}

// translate maps what Vault answered to the contract's errors, with a hint at what to do.
// Context errors pass through wrapped, so errors.Is(err, context.Canceled) holds. op is
// "hmac", "describe", "import", "delete" or "login".
func translate(op string, ref keyRef, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("vault: %s %s: %w", op, ref, err)
	}
	e := &vaultError{op: fmt.Sprintf("%s %s", op, ref), err: err, sentinel: plugins.ErrDevice}
	var api *apiError
	switch {
	case errors.Is(err, errUnreachable):
		e.sentinel = plugins.ErrDeviceUnavailable
		e.hint = "Vault cannot be reached: check addr= (or $VAULT_ADDR) and, for https, $VAULT_CACERT"
	case !errors.As(err, &api):
	case api.Status == http.StatusForbidden && op == "login":
		e.sentinel = plugins.ErrPermissionDenied
		e.hint = "AppRole login refused: check role-id= and auth-mount="
	case api.Status == http.StatusForbidden && api.has("invalid token"):
		e.sentinel = plugins.ErrPINIncorrect
		e.hint = "Vault does not know this token (expired, revoked or mistyped); it is not retried: put a valid token in the pin-source file"
		if ref.roleID != "" {
			e.hint = "Vault no longer knows the token of the AppRole login (revoked or expired); it is not retried: the next call logs in again"
		}
	case api.Status == http.StatusForbidden:
		e.sentinel = plugins.ErrPermissionDenied
		e.hint = "the token's policies lack " + need(op, ref)
	case op == "login" && api.Status == http.StatusBadRequest && (api.has("invalid role or secret ID") || api.has("invalid secret id") || api.has("failed to validate credentials")):
		e.sentinel = plugins.ErrPINIncorrect
		e.hint = "Vault refused the AppRole secret ID; it is not retried"
	case api.Status == http.StatusServiceUnavailable && api.has("sealed"):
		e.sentinel = plugins.ErrDeviceUnavailable
		e.hint = "Vault is sealed: an operator must unseal it"
	case api.Status == http.StatusServiceUnavailable || api.Status == http.StatusTooManyRequests ||
		api.Status == http.StatusBadGateway || api.Status == http.StatusGatewayTimeout ||
		api.Status == 472 || api.Status == 473: // 472, 473: performance standby / DR secondary
		e.sentinel = plugins.ErrDeviceUnavailable
		e.hint = "Vault cannot serve the request now (uninitialized, standby or overloaded)"
	case api.Status == http.StatusBadRequest && api.has("key not found"), api.Status == http.StatusNotFound && len(api.Errors) == 0:
		e.sentinel = plugins.ErrKeyNotFound
		e.hint = fmt.Sprintf("no transit key %q under mount %q: check key= and mount=, or import the key", ref.name, ref.mount)
	case api.Status == http.StatusNotFound && api.has("no handler for route"):
		e.sentinel = plugins.ErrInvalidKeyURI
		e.hint = fmt.Sprintf("no secrets engine answers at %q: check mount= (and namespace=)", ref.mount)
	}
	return e
}

// needToken is the error for a request without a token: the PIN was empty and $VAULT_TOKEN
// unset. Nothing was sent to Vault, so no try was counted anywhere.
func needToken(ref keyRef) error {
	return fmt.Errorf("%w (or pass $VAULT_TOKEN to the plugin: AWSKEEP_PLUGIN_ENV=VAULT_TOKEN and an empty pin-value=)",
		plugins.MissingPIN("vault", "Vault token", ref.String()))
}
