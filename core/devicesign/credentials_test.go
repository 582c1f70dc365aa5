package devicesign

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// TestCredentialsProviderRefreshesBeforeExpiry: inside aws.NewCredentialsCache the provider
// is asked again once the credentials are within ExpiryWindow of their expiry, and each
// refresh is one STS call signed by the device. A window longer than the credentials'
// lifetime makes every Retrieve such a refresh; a short one serves them from the cache.
func TestCredentialsProviderRefreshesBeforeExpiry(t *testing.T) {
	k := openTestKey(t, alice.AccessKeyID, alice.SecretAccessKey, func(o *Options) { o.Settings.RoleARN = roleARN })
	ctx := context.Background()
	retrieve := func(cache *aws.CredentialsCache) aws.Credentials {
		t.Helper()
		c, err := cache.Retrieve(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !c.CanExpire || c.SessionToken == "" {
			t.Fatalf("credentials %s: CanExpire %t, want temporary credentials", c.AccessKeyID, c.CanExpire)
		}
		return c
	}

	before := k.DeviceOperations()
	refreshing := aws.NewCredentialsCache(k.CredentialsProvider(), func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = 48 * time.Hour })
	first, second := retrieve(refreshing), retrieve(refreshing)
	if n := k.DeviceOperations() - before; n != 2 {
		t.Fatalf("%d device operations for two Retrieves inside the expiry window, want 2 (one AssumeRole each)", n)
	}
	if first.AccessKeyID == second.AccessKeyID {
		t.Fatalf("the refresh returned the same access key %s, want new credentials", first.AccessKeyID)
	}

	before = k.DeviceOperations()
	cached := aws.NewCredentialsCache(k.CredentialsProvider(), func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = 5 * time.Minute })
	first, second = retrieve(cached), retrieve(cached)
	if n := k.DeviceOperations() - before; n != 1 || first.AccessKeyID != second.AccessKeyID {
		t.Fatalf("%d device operations and keys %s, %s for two Retrieves well before expiry, want 1 and the same key", n, first.AccessKeyID, second.AccessKeyID)
	}
}
