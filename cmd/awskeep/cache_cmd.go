package main

import (
	"context"
	"fmt"
	"path/filepath"

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
	dir := e.getenv("XDG_CACHE_HOME")
	if dir == "" {
		home := e.getenv("HOME")
		if home == "" {
			return nil, fmt.Errorf("neither $XDG_CACHE_HOME nor $HOME is set; pass --no-cache")
		}
		dir = filepath.Join(home, ".cache")
	}
	return cache.Open(func(o *cache.Options) {
		o.Dir = filepath.Join(dir, "awskeep")
		o.Now = e.now
		o.Logger = e.logger
	})
}
