package backend

import (
	"context"
	"fmt"

	"github.com/awskeep/awskeep/plugin-yubihsm/yubihsm"
	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// The optional operations of protocol 1.3: ListKeys (LIST_OBJECTS, GET_OBJECT_INFO) and
// AuditLog (GET_LOG_ENTRIES, SET_LOG_INDEX).

var (
	_ plugins.KeyLister      = (*Backend)(nil)
	_ plugins.AuditLogReader = (*Backend)(nil)
)

// openDevice parses a device URI and returns the client for it.
func (b *Backend) openDevice(ctx context.Context, key plugins.Key) (keyRef, *keyuri.URI, *yubihsm.Client, clientKey, error) {
	ref, u, err := parseDevice(key.URI)
	if err != nil {
		return keyRef{}, nil, nil, clientKey{}, err
	}
	if err := ctx.Err(); err != nil {
		return keyRef{}, nil, nil, clientKey{}, err
	}
	c, k, err := b.client(ref, key.PIN)
	return ref, u, c, k, err
}

// ListKeys lists the HMAC-SHA256 key objects the authentication key's domains reach
// (LIST_OBJECTS filtered by type hmac-key and algorithm hmac-sha256), each with its label
// and attributes (GET_OBJECT_INFO). The device records no creation time. Each URI is the
// request's connector and auth-key-id with the key's object-id.
func (b *Backend) ListKeys(ctx context.Context, key plugins.Key) ([]plugins.KeyEntry, error) {
	ref, u, c, k, err := b.openDevice(ctx, key)
	if err != nil {
		return nil, err
	}
	op := "list keys on " + ref.connector
	refs, err := c.ListObjects(ctx, yubihsm.FilterType(yubihsm.TypeHMACKey), yubihsm.FilterAlgorithm(yubihsm.AlgHMACSHA256))
	if err != nil {
		b.forget(k, err)
		return nil, translate(op, ref, err)
	}
	out := make([]plugins.KeyEntry, 0, len(refs))
	for _, r := range refs {
		info, err := c.GetObjectInfo(ctx, r.ID, yubihsm.TypeHMACKey)
		if err != nil {
			b.forget(k, err)
			return nil, translate(fmt.Sprintf("%s: describe object %#04x", op, r.ID), ref, err)
		}
		ku := u.Clone()
		ku.Path = []keyuri.Attr{{Name: "object-id", Value: fmt.Sprintf("%#04x", info.ID)}}
		ku.Query = nil
		for _, a := range u.WithoutSecrets().Query {
			if a.Name == "connector" || a.Name == "auth-key-id" {
				ku.Query = append(ku.Query, a)
			}
		}
		out = append(out, plugins.KeyEntry{
			URI: ku.String(), Label: info.Label,
			Attributes: map[string]string{
				"object-id":    fmt.Sprintf("%#04x", info.ID),
				"domains":      info.Domains.String(),
				"capabilities": info.Capabilities.String(),
				"origin":       info.Origin.String(),
			},
		})
	}
	return out, nil
}

// AuditLog reads the Log Store (GET_LOG_ENTRIES) and passes every entry on as the device
// sent it, then with req.MarkRead releases the entries through req.MarkReadThrough
// (SET_LOG_INDEX). The authentication key needs the get-log-entries capability. Verifying
// the chain is the host's work.
func (b *Backend) AuditLog(ctx context.Context, key plugins.Key, req plugins.AuditLogRequest) (plugins.AuditLogResult, error) {
	ref, _, c, k, err := b.openDevice(ctx, key)
	if err != nil {
		return plugins.AuditLogResult{}, err
	}
	op := "read the audit log of " + ref.connector
	l, err := c.GetLogEntries(ctx)
	if err != nil {
		b.forget(k, err)
		return plugins.AuditLogResult{}, translate(op, ref, err)
	}
	res := plugins.AuditLogResult{UnloggedBoots: l.UnloggedBoots, UnloggedAuths: l.UnloggedAuths,
		Entries: make([]plugins.AuditLogEntry, 0, len(l.Entries))}
	for _, e := range l.Entries {
		res.Entries = append(res.Entries, plugins.AuditLogEntry{
			Number: e.Number, Command: uint8(e.Command), Length: e.Length, SessionKey: e.SessionKey,
			TargetKey: e.TargetKey, SecondKey: e.SecondKey, Result: e.Result, Tick: e.Tick, Digest: e.Digest,
		})
	}
	if req.MarkRead {
		if err := c.SetLogIndex(ctx, req.MarkReadThrough); err != nil {
			b.forget(k, err)
			return plugins.AuditLogResult{}, translate(fmt.Sprintf("%s: release the entries through %d (SET_LOG_INDEX)", op, req.MarkReadThrough), ref, err)
		}
	}
	return res, nil
}
