package pluginhost

import (
	"context"

	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

var (
	_ plugins.KeyLister      = (*Pool)(nil)
	_ plugins.AuditLogReader = (*Pool)(nil)
)

// deviceBackendFor finds the plugin for a URI that names a device (its object part may be
// left out, keyuri.ParseDevice).
func (p *Pool) deviceBackendFor(ctx context.Context, key plugins.Key) (*plugins.Plugin, error) {
	u, err := keyuri.ParseDevice(key.URI)
	if err != nil {
		return nil, err
	}
	return p.Plugin(ctx, u.Scheme)
}

// ListKeys routes to the plugin of the URI's scheme (protocol 1.3). A plugin without the
// operation, or built before 1.3, answers plugins.ErrUnsupported.
func (p *Pool) ListKeys(ctx context.Context, key plugins.Key) ([]plugins.KeyEntry, error) {
	pl, err := p.deviceBackendFor(ctx, key)
	if err != nil {
		return nil, err
	}
	entries, err := pl.ListKeys(ctx, key)
	return entries, explain(pl, "list keys", err)
}

// AuditLog routes to the plugin of the URI's scheme (protocol 1.3). A plugin without the
// operation, or built before 1.3, answers plugins.ErrUnsupported.
func (p *Pool) AuditLog(ctx context.Context, key plugins.Key, req plugins.AuditLogRequest) (plugins.AuditLogResult, error) {
	pl, err := p.deviceBackendFor(ctx, key)
	if err != nil {
		return plugins.AuditLogResult{}, err
	}
	log, err := pl.AuditLog(ctx, key, req)
	return log, explain(pl, "audit log", err)
}
