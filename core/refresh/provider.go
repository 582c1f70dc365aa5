package refresh

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/awskeep/awskeep/core/creds"
)

// ErrClosed is returned by Retrieve once Close has been called, including to callers that
// were waiting for a fetch that Close interrupted.
var ErrClosed = errors.New("refresh: provider closed")

// Provider holds a source's current credentials and replaces them before they expire.
// Its methods are safe for concurrent use.
type Provider struct {
	source creds.Provider
	opts   Options
	group  singleflight.Group

	// life is the context of every fetch and of the loop; Close cancels it.
	life context.Context
	stop context.CancelFunc

	mu       sync.Mutex
	closed   bool
	done     chan struct{} // closed when the loop has ended; nil until Start
	cur      creds.Credentials
	have     bool
	fetched  time.Time     // when cur arrived
	lifetime time.Duration // cur's lifetime at fetched
	fatal    error         // a Permanent error: the source is not called again
	fetches  sync.WaitGroup
}

var _ creds.Provider = (*Provider)(nil)

// New returns a Provider over source. It fetches nothing until the first Retrieve or Start.
func New(source creds.Provider, optFns ...func(*Options)) *Provider {
	var o Options
	for _, fn := range optFns {
		fn(&o)
	}
	o.setDefaults()
	life, stop := context.WithCancel(context.Background())
	return &Provider{source: source, opts: o, life: life, stop: stop}
}

// Retrieve returns the current credentials while they have not expired, without waiting
// for a refresh in progress. With none, or expired ones, it fetches synchronously: concurrent
// callers share one fetch, and ctx bounds only this caller's wait, not the fetch. After a
// Permanent error it returns that error instead of fetching; after Close, ErrClosed.
func (p *Provider) Retrieve(ctx context.Context) (creds.Credentials, error) {
	p.mu.Lock()
	closed, cur, valid := p.closed, p.cur, p.have && p.cur.Remaining(p.opts.Now()) > 0
	p.mu.Unlock()
	switch {
	case closed:
		return creds.Credentials{}, ErrClosed
	case valid:
		return cur, nil
	}
	return p.wait(ctx, p.fetchUnlessValid)
}

// wait joins the fetch in flight, or starts one with fetch, and waits for it or for ctx.
func (p *Provider) wait(ctx context.Context, fetch func() (any, error)) (creds.Credentials, error) {
	ch := p.group.DoChan("", fetch)
	select {
	case r := <-ch:
		if r.Err != nil {
			return creds.Credentials{}, r.Err
		}
		return r.Val.(creds.Credentials), nil
	case <-ctx.Done():
		return creds.Credentials{}, fmt.Errorf("refresh: wait for credentials: %w", context.Cause(ctx))
	}
}

// fetchUnlessValid is fetch for Retrieve: a caller that found no valid credentials may
// start its flight just after another one stored some; it takes those instead of asking the
// source again.
func (p *Provider) fetchUnlessValid() (any, error) {
	p.mu.Lock()
	cur, valid := p.cur, !p.closed && p.have && p.cur.Remaining(p.opts.Now()) > 0
	p.mu.Unlock()
	if valid {
		return cur, nil
	}
	return p.fetch()
}

// fetch asks the source once, on a context detached from the callers, and stores the
// result. It is only ever run through p.group, so never twice at once.
func (p *Provider) fetch() (any, error) {
	p.mu.Lock()
	switch {
	case p.closed:
		p.mu.Unlock()
		return nil, ErrClosed
	case p.fatal != nil:
		err := p.fatal
		p.mu.Unlock()
		return nil, err
	}
	p.fetches.Add(1) // under mu, so that Close's Wait cannot miss it
	p.mu.Unlock()
	defer p.fetches.Done()

	ctx, cancel := context.WithTimeout(p.life, p.opts.FetchTimeout)
	defer cancel()
	c, err := p.source.Retrieve(ctx)
	now := p.opts.Now()
	if err == nil {
		err = check(c, now)
	}
	if err == nil {
		p.mu.Lock()
		if p.closed {
			err = ErrClosed
		} else {
			p.cur, p.have, p.fetched, p.lifetime = c, true, now, c.Remaining(now)
		}
		p.mu.Unlock()
	}
	if err != nil && p.life.Err() != nil {
		err = ErrClosed // the source saw Close's cancellation; say so rather than "context canceled"
	}
	if err != nil {
		// Logged only when credentials are held (a refresh of working ones failed, and
		// callers are still being served): without any, every caller receives the error
		// itself, and a log line would say it twice.
		p.mu.Lock()
		held := p.have
		p.mu.Unlock()
		switch {
		case errors.Is(err, ErrClosed) || !held:
			if p.opts.Permanent(err) {
				p.mu.Lock()
				p.fatal = err
				p.mu.Unlock()
			}
		case p.opts.Permanent(err):
			p.mu.Lock()
			p.fatal = err
			p.mu.Unlock()
			p.opts.Logger.Error("refreshing credentials failed; not retried", "error", err)
		default:
			p.opts.Logger.Warn("refreshing credentials failed", "error", err)
		}
		if p.opts.OnRefresh != nil {
			p.opts.OnRefresh(creds.Credentials{}, err)
		}
		return nil, err
	}
	p.opts.Logger.Info("credentials refreshed", "access_key_id", c.AccessKeyID, "expiration", c.Expiration)
	if p.opts.OnRefresh != nil {
		p.opts.OnRefresh(c, nil)
	}
	return c, nil
}

// check refuses what a source should never return: the loop would otherwise spin on
// credentials that are due for refresh the moment they arrive.
func check(c creds.Credentials, now time.Time) error {
	if !c.Complete() {
		return fmt.Errorf("refresh: source returned incomplete credentials %s", c)
	}
	if c.Remaining(now) <= 0 {
		return fmt.Errorf("refresh: source returned expired %s", c)
	}
	return nil
}

// Start starts the background loop. Calling it again, or after Close, does nothing.
func (p *Provider) Start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.done != nil {
		return
	}
	p.done = make(chan struct{})
	go p.loop(p.done)
}

// Close stops the loop and waits for it and for any fetch in flight, then drops the held
// credentials (Go cannot wipe the strings themselves; nothing here refers to them any
// more). A fetch in flight is cancelled through its context; a source that ignores its
// context delays Close until it returns. Retrieve returns ErrClosed afterwards. Close always returns nil; calling it
// again does nothing.
func (p *Provider) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.cur, p.have = creds.Credentials{}, false
	done := p.done
	p.mu.Unlock()

	p.stop()
	if done != nil {
		<-done
	}
	p.fetches.Wait()
	return nil
}
