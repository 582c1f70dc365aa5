package creds

import "context"

// Provider retrieves credentials. Sources implement it; the cache wraps one. Retrieve does
// the source's work each time it is called (a device operation and an STS call for a device
// key); callers that want reuse wrap it in the cache. Errors are classified (see Class).
type Provider interface {
	Retrieve(ctx context.Context) (Credentials, error)
}

// ProviderFunc adapts a function to Provider.
type ProviderFunc func(ctx context.Context) (Credentials, error)

// Retrieve calls f.
func (f ProviderFunc) Retrieve(ctx context.Context) (Credentials, error) { return f(ctx) }
