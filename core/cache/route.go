package cache

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
)

// Routes let a program find a cache entry without working out its Key.
//
// awskeep's front program answers `awskeep credential-process --profile P` from the cache
// while linking little more than this package. It cannot resolve settings (that takes the
// profile parser, the engine and the AWS SDK), so the full program, once it has resolved
// them for an invocation, leaves a route: a file named by a fingerprint of everything those
// settings came from (the arguments, the environment variables the resolution reads, the
// config file's bytes; package fastpath computes it), holding the entry's Key. The front
// computes the same fingerprint, reads the route, then reads the entry exactly as Get does.
// Inputs that differ in anything give another fingerprint, which finds no route, and the
// front hands over to the full program.
//
// A route holds no secret (a Key never does) and is trusted only as an entry is: a regular
// file, not a symbolic link, owned by the user and private to them.

const (
	routeSuffix  = ".route"
	routeVersion = 1
	maxRouteSize = 8 << 10
)

// routeFile is the JSON layout of a route: {"version":1,"key":{...}}.
type routeFile struct {
	Version int      `json:"version"`
	Key     *keyJSON `json:"key"`
}

func (c *Cache) routePath(fingerprint string) string {
	return filepath.Join(c.dir, fingerprint+routeSuffix)
}

// PutRoute records that fingerprint, 64 lower-case hex digits, leads to k's entry. It
// writes only when the route is missing or leads elsewhere, so that the usual call costs
// one read.
func (c *Cache) PutRoute(fingerprint string, k Key) error {
	if !isID(fingerprint) {
		return errors.New("cache: a route fingerprint is 64 lower-case hex digits")
	}
	if err := k.validate(); err != nil {
		return err
	}
	if got, ok := c.GetRoute(fingerprint); ok && got == k {
		return nil
	}
	kj, err := k.toJSON()
	if err != nil {
		return err
	}
	data, err := json.Marshal(routeFile{Version: routeVersion, Key: kj})
	if err != nil {
		return fmt.Errorf("cache: encode route: %w", err)
	}
	return c.writeAtomic(fingerprint, c.routePath(fingerprint), append(data, '\n'))
}

// GetRoute returns the Key that fingerprint leads to. A route that is missing or cannot be
// trusted is no route; why is logged at debug level.
func (c *Cache) GetRoute(fingerprint string) (Key, bool) {
	if !isID(fingerprint) {
		return Key{}, false
	}
	path := c.routePath(fingerprint)
	k, err := c.readRoute(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		c.log.Debug("cache: no route", "route", path)
		return Key{}, false
	case err != nil:
		c.log.Debug("cache: route discarded", "route", path, "reason", err.Error())
		return Key{}, false
	}
	return k, true
}

func (c *Cache) readRoute(path string) (Key, error) {
	data, meta, err := readEntryFile(path, maxRouteSize)
	if err != nil {
		return Key{}, err
	}
	if err := checkEntryFile(meta, c.uid); err != nil {
		return Key{}, err
	}
	var f routeFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return Key{}, corrupt("route: %s", jsonReason(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return Key{}, corrupt("route: data after the JSON object")
	}
	if f.Version != routeVersion || f.Key == nil {
		return Key{}, corrupt("route: format version %d without a key, want version %d", f.Version, routeVersion)
	}
	k, err := f.Key.key()
	if err != nil {
		return Key{}, err
	}
	return k, k.validate()
}
