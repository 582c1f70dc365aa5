package main

import (
	"context"
	"fmt"

	"github.com/awskeep/awskeep/core/cache"
)

func runCacheClear(_ context.Context, args []string, e *env) error {
	fs := newFlagSet("cache clear", e)
	if err := parseFlags(fs, args, e); err != nil {
		return err
	}
	c, err := openCache(e)
	if err != nil {
		return fmt.Errorf("cache clear: %w", err)
	}
	if err := c.Clear(); err != nil {
		return fmt.Errorf("cache clear: %w", err)
	}
	fmt.Fprintln(e.stdout, "cache cleared")
	return nil
}

// openCache opens the cache in $XDG_CACHE_HOME/awskeep (default ~/.cache/awskeep).
func openCache(e *env) (*cache.Cache, error) {
	dir, err := cache.DirFrom(e.getenv)
	if err != nil {
		return nil, err
	}
	return cache.Open(func(o *cache.Options) {
		o.Dir = dir
		o.Now = e.now
		o.Logger = e.logger
	})
}
