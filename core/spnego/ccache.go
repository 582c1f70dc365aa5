package spnego

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/jcmturner/gokrb5/v8/credentials"
)

// maxCCache bounds the ticket cache file read; MIT caches hold a few kilobytes per ticket.
const maxCCache = 16 << 20

var errCorruptCCache = errors.New("the ticket cache is truncated or corrupt")

// parseCCache parses an MIT ccache file with gokrb5, after checking its structure:
// gokrb5's parser trusts the counts in the file (a bad one allocates without bound) and
// panics on truncated input.
func parseCCache(b []byte) (cc *credentials.CCache, err error) {
	if len(b) == 0 {
		return nil, errors.New("the ticket cache is empty")
	}
	if len(b) > maxCCache {
		return nil, fmt.Errorf("the ticket cache is larger than %d bytes", maxCCache)
	}
	if err := checkCCache(b); err != nil {
		return nil, err
	}
	defer func() {
		if recover() != nil {
			cc, err = nil, errCorruptCCache
		}
	}()
	cc = new(credentials.CCache)
	if err := cc.Unmarshal(b); err != nil {
		return nil, fmt.Errorf("the ticket cache cannot be parsed: %w", err)
	}
	return cc, nil
}

// checkCCache walks the file format (MIT "ccache file format": version, v4 header, default
// principal, credentials) and checks that every length and count fits in what remains. It
// follows gokrb5's reading, including its header loop, so that a file passing it parses
// without out-of-range reads.
func checkCCache(b []byte) error {
	if len(b) < 2 || b[0] != 5 || b[1] < 1 || b[1] > 4 {
		return errors.New("not an MIT ticket cache (bad version bytes)")
	}
	r := &ccReader{b: b, p: 2, version: b[1], order: binary.BigEndian}
	if r.version <= 2 {
		r.order = binary.NativeEndian // versions 1 and 2 use the host's byte order
	}
	if r.version == 4 {
		hlen := int(r.u16())
		for r.err == nil && r.p <= hlen {
			r.u16() // tag
			r.bytes(int(r.u16()))
		}
	}
	r.principal()
	for r.err == nil && r.p < len(r.b) {
		r.principal() // client
		r.principal() // server
		r.u16()       // key type
		if r.version == 3 {
			r.u16()
		}
		r.data()                                          // key
		r.bytes(4*4 + 1)                                  // auth, start, end, renew-till times; is_skey
		r.bytes(4)                                        // ticket flags
		for n := r.count(6); n > 0 && r.err == nil; n-- { // addresses
			r.u16()
			r.data()
		}
		for n := r.count(6); n > 0 && r.err == nil; n-- { // authorization data
			r.u16()
			r.data()
		}
		r.data() // ticket
		r.data() // second ticket
	}
	return r.err
}

type ccReader struct {
	b       []byte
	p       int
	version byte
	order   binary.ByteOrder
	err     error
}

func (r *ccReader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.p {
		r.err = errCorruptCCache
		return nil
	}
	s := r.b[r.p : r.p+n]
	r.p += n
	return s
}

func (r *ccReader) u16() uint16 {
	if s := r.bytes(2); s != nil {
		return r.order.Uint16(s)
	}
	return 0
}

func (r *ccReader) u32() uint32 {
	if s := r.bytes(4); s != nil {
		return r.order.Uint32(s)
	}
	return 0
}

// count reads a 32-bit count of items of at least min bytes each, and fails when they
// cannot fit in the rest of the file (gokrb5 allocates the count before reading).
func (r *ccReader) count(min int) int {
	n := r.u32()
	if r.err == nil && int64(n) > int64(len(r.b)-r.p)/int64(min) {
		r.err = errCorruptCCache
		return 0
	}
	return int(n)
}

func (r *ccReader) data() { r.bytes(int(r.u32())) }

func (r *ccReader) principal() {
	if r.version != 1 {
		r.u32() // name type
	}
	n := r.count(4)
	if r.version == 1 {
		n-- // version 1 counts the realm as a component
	}
	r.data() // realm
	for ; n > 0 && r.err == nil; n-- {
		r.data()
	}
}
