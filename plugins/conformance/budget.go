package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/awskeep/awskeep/plugins"
)

// budgetKey marks a context as a check's budget (its value is the check's name), so that a
// deadline error is told apart from the Cancellation check's deliberately expired contexts.
type budgetKey struct{}

// budgetError is a call that ran past its check's time budget. It says which settings to
// change and unwraps to the backend's error (a context.DeadlineExceeded).
type budgetError struct {
	check   string
	took    time.Duration
	slowest time.Duration
	cfg     *Config
	err     error
}

func (e *budgetError) Error() string {
	advice := "raise Config.CheckTimeout for a device this slow"
	if strings.HasSuffix(e.check, "/Concurrent") {
		advice = fmt.Sprintf("for a device this slow raise Config.CheckTimeout, or lower Config.Concurrency (%d) and Config.CallsPerCaller (%d), whose product is the number of HMACs this check makes",
			e.cfg.Concurrency, e.cfg.CallsPerCaller)
	}
	return fmt.Sprintf("ran out of check %s's time budget of %v (Config.CheckTimeout) after %v; the slowest call so far took %v; %s: %v",
		e.check, e.cfg.CheckTimeout, e.took.Round(time.Millisecond), e.slowest.Round(time.Millisecond), advice, e.err)
}

func (e *budgetError) Unwrap() error { return e.err }

// budgeted is the backend under test, timing each call and explaining a call that ran
// past its check's budget.
type budgeted struct {
	plugins.Backend
	cfg     *Config
	slowest atomic.Int64 // nanoseconds
}

// explain turns a deadline error of a budget context into a *budgetError. The kit's own
// messages say which call it was.
func (b *budgeted) explain(ctx context.Context, start time.Time, err error) error {
	took := time.Since(start)
	for n := int64(took); ; {
		old := b.slowest.Load()
		if n <= old || b.slowest.CompareAndSwap(old, n) {
			break
		}
	}
	check, ok := ctx.Value(budgetKey{}).(string)
	if err == nil || !ok || !errors.Is(ctx.Err(), context.DeadlineExceeded) || !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &budgetError{check: check, took: took, slowest: time.Duration(b.slowest.Load()), cfg: b.cfg, err: err}
}

func (b *budgeted) Info(ctx context.Context) (plugins.Info, error) {
	start := time.Now()
	info, err := b.Backend.Info(ctx)
	return info, b.explain(ctx, start, err)
}

func (b *budgeted) HMAC(ctx context.Context, key plugins.Key, message []byte) ([]byte, error) {
	start := time.Now()
	mac, err := b.Backend.HMAC(ctx, key, message)
	return mac, b.explain(ctx, start, err)
}

func (b *budgeted) ImportKey(ctx context.Context, key plugins.Key, material []byte, opts plugins.ImportOptions) error {
	start := time.Now()
	return b.explain(ctx, start, b.Backend.ImportKey(ctx, key, material, opts))
}

func (b *budgeted) DescribeKey(ctx context.Context, key plugins.Key) (plugins.KeyDescription, error) {
	start := time.Now()
	d, err := b.Backend.DescribeKey(ctx, key)
	return d, b.explain(ctx, start, err)
}

func (b *budgeted) DeleteKey(ctx context.Context, key plugins.Key) error {
	start := time.Now()
	return b.explain(ctx, start, b.Backend.DeleteKey(ctx, key))
}

func (b *budgeted) ListKeys(ctx context.Context, key plugins.Key) ([]plugins.KeyEntry, error) {
	start := time.Now()
	entries, err := plugins.ListKeys(ctx, b.Backend, key)
	return entries, b.explain(ctx, start, err)
}

func (b *budgeted) AuditLog(ctx context.Context, key plugins.Key, req plugins.AuditLogRequest) (plugins.AuditLogResult, error) {
	start := time.Now()
	log, err := plugins.ReadAuditLog(ctx, b.Backend, key, req)
	return log, b.explain(ctx, start, err)
}
