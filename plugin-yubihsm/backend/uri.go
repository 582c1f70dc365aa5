package backend

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/awskeep/awskeep/plugin-yubihsm/yubihsm"
	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// Scheme is the key URI scheme this backend serves.
const Scheme = "yubihsm"

// keyRef is what a yubihsm key URI says.
type keyRef struct {
	objectID  uint16
	connector string
	authKeyID uint16
	label     string
	domains   yubihsm.Domains
}

func (r keyRef) String() string {
	return fmt.Sprintf("key %#04x on %s", r.objectID, r.connector)
}

// parseKey reads a key URI of the yubihsm scheme (path object-id; query connector,
// auth-key-id, label, domains). Errors wrap plugins.ErrInvalidKeyURI.
func parseKey(raw string) (keyRef, error) {
	u, err := keyuri.Parse(raw)
	if err != nil {
		return keyRef{}, fmt.Errorf("yubihsm: %w", err)
	}
	return refOf(u, true)
}

// parseDevice reads a URI of the yubihsm scheme that names a device (ListKeys, AuditLog):
// object-id may be left out, and objectID is then 0.
func parseDevice(raw string) (keyRef, *keyuri.URI, error) {
	u, err := keyuri.ParseDevice(raw)
	if err != nil {
		return keyRef{}, nil, fmt.Errorf("yubihsm: %w", err)
	}
	_, hasObject := u.PathAttr("object-id")
	ref, err := refOf(u, hasObject)
	return ref, u, err
}

func refOf(u *keyuri.URI, object bool) (keyRef, error) {
	if u.Scheme != Scheme {
		return keyRef{}, fmt.Errorf("yubihsm: %w: scheme %q, this backend serves %q", plugins.ErrInvalidKeyURI, u.Scheme, Scheme+":")
	}
	ref := keyRef{connector: yubihsm.DefaultConnectorURL, authKeyID: 1, domains: 1}
	var err error
	if object {
		id, _ := u.PathAttr("object-id") // keyuri checks presence and range for this scheme
		if ref.objectID, err = keyuri.ObjectID(id); err != nil {
			return keyRef{}, err
		}
	}
	if v, ok := u.QueryAttr("connector"); ok {
		if ref.connector, err = yubihsm.ParseConnectorURL(v); err != nil {
			return keyRef{}, fmt.Errorf("yubihsm: %w: connector must be an http:// URL such as %s", plugins.ErrInvalidKeyURI, yubihsm.DefaultConnectorURL)
		}
	}
	if v, ok := u.QueryAttr("auth-key-id"); ok {
		if ref.authKeyID, err = keyuri.ObjectID(v); err != nil {
			return keyRef{}, err
		}
	}
	ref.label = fmt.Sprintf("awskeep-%04x", ref.objectID)
	if v, ok := u.QueryAttr("label"); ok {
		if len(v) > yubihsm.LabelSize || v == "" {
			return keyRef{}, fmt.Errorf("yubihsm: %w: label must be 1 to %d bytes", plugins.ErrInvalidKeyURI, yubihsm.LabelSize)
		}
		ref.label = v
	}
	if v, ok := u.QueryAttr("domains"); ok {
		if ref.domains, err = parseDomains(v); err != nil {
			return keyRef{}, err
		}
	}
	return ref, nil
}

// parseDomains reads "1,2,5": domain numbers from 1 to 16.
func parseDomains(s string) (yubihsm.Domains, error) {
	var nums []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return 0, fmt.Errorf("yubihsm: %w: domains %q: want numbers 1 to 16 separated by commas, e.g. 1,2", plugins.ErrInvalidKeyURI, s)
		}
		nums = append(nums, n)
	}
	d, err := yubihsm.DomainSet(nums...)
	if err != nil {
		return 0, fmt.Errorf("yubihsm: %w: domains %q: want numbers 1 to 16", plugins.ErrInvalidKeyURI, s)
	}
	return d, nil
}
