package sigv4

import (
	"context"
	"crypto/sha256"
	"fmt"
)

// signingKey returns kSigning for sc: kDate from the Deriver (the only step that needs the
// secret), then kRegion, kService and kSigning in software. With useCache it reuses and
// stores kSigning per (date, region, service). The key returned is the caller's own copy:
// zero it after use.
func (s *Signer) signingKey(ctx context.Context, sc scope, useCache bool) ([]byte, error) {
	ck := cacheKey{date: sc.date, region: sc.region, service: sc.service}
	if !useCache {
		return s.deriveSigningKey(ctx, sc)
	}
	if key, ok := s.cache.get(ck); ok {
		return key, nil
	}
	if !s.cache.cacheable(ck) {
		return s.deriveSigningKey(ctx, sc)
	}
	// Concurrent misses of one scope make one device call: the first derives and stores,
	// the others wait and then read the cache like it. The key never leaves the cache
	// except as each caller's own copy, so every copy can be zeroed.
	_, err, _ := s.flight.Do(ck.date+"/"+ck.region+"/"+ck.service, func() (any, error) {
		if key, ok := s.cache.get(ck); ok {
			clear(key)
			return nil, nil
		}
		key, err := s.deriveSigningKey(ctx, sc)
		if err != nil {
			return nil, err
		}
		s.cache.put(ck, key)
		clear(key)
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	if key, ok := s.cache.get(ck); ok {
		return key, nil
	}
	// Dropped between the store and now (the day ended, or Close): derive for this call.
	return s.deriveSigningKey(ctx, sc)
}

// mac is HMAC-SHA256(kSigning, data) for scope sc: from the cache without copying the key
// when it holds it, otherwise through signingKey.
func (s *Signer) mac(ctx context.Context, sc scope, useCache bool, data string) ([sha256.Size]byte, error) {
	if useCache {
		if sum, ok := s.cache.mac(cacheKey{date: sc.date, region: sc.region, service: sc.service}, data); ok {
			return sum, nil
		}
	}
	key, err := s.signingKey(ctx, sc, useCache)
	if err != nil {
		return [sha256.Size]byte{}, err
	}
	sum := hmacSum(key, data)
	clear(key)
	return sum, nil
}

// deriveSigningKey asks the Deriver for kDate and finishes the chain.
func (s *Signer) deriveSigningKey(ctx context.Context, sc scope) ([]byte, error) {
	kDate, err := s.deriver.DeriveDateKey(ctx, sc.date)
	if err != nil {
		return nil, fmt.Errorf("sigv4: derive date key: %w", err)
	}
	if len(kDate) != sha256.Size {
		// A backend that answers with the wrong MAC would otherwise surface as an opaque
		// SignatureDoesNotMatch from AWS.
		return nil, fmt.Errorf("sigv4: derive date key: got %d bytes, want %d (HMAC-SHA256): check the key backend", len(kDate), sha256.Size)
	}
	key := deriveSigningKey(kDate, sc.region, sc.service)
	clear(kDate)
	return key, nil
}

// deriveSigningKey finishes the key chain from kDate.
func deriveSigningKey(kDate []byte, region, service string) []byte {
	kRegion := hmacSHA256(kDate, region)
	kService := hmacSHA256(kRegion, service)
	key := hmacSHA256(kService, terminator)
	clear(kRegion)
	clear(kService)
	return key
}
