package devicekey

import (
	"context"

	"github.com/awskeep/awskeep/plugins"
)

// ListKeys lists the awskeep keys on the device (protocol 1.3's optional ListKeys). Open the
// Device with a URI parsed by keyuri.ParseDevice, whose object part may be left out. A
// plugin without the operation answers plugins.ErrUnsupported; errors are classified and
// explained like HMAC's (Explain).
func (d *Device) ListKeys(ctx context.Context) ([]plugins.KeyEntry, error) {
	entries, err := plugins.ListKeys(ctx, d.Backend, d.Key)
	return entries, d.Explain("list keys", err)
}

// AuditLog reads the device's audit log (protocol 1.3's optional AuditLog), as ListKeys.
func (d *Device) AuditLog(ctx context.Context, req plugins.AuditLogRequest) (plugins.AuditLogResult, error) {
	log, err := plugins.ReadAuditLog(ctx, d.Backend, d.Key, req)
	return log, d.Explain("audit log", err)
}
