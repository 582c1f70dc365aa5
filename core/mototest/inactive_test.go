package mototest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/core/mototest"
)

// TestRefusingInactive shows the shim doing what AWS does and plain moto does not: a key
// set Inactive is refused (InvalidClientTokenId), the same key set Active again works, and
// the user's other key is not affected. It also shows plain moto accepting the inactive
// key, so the shim is what makes the difference.
func TestRefusingInactive(t *testing.T) {
	for _, tc := range []struct {
		name   string
		start  func(testing.TB) *mototest.Server
		refuse bool
	}{
		{"shim", mototest.StartRefusingInactive, true},
		{"plain moto", mototest.Start, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s := tc.start(t)
			u, err := s.CreateUser(ctx, "carol", false)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.PutUserPolicy(ctx, "carol", "self-keys", mototest.SelfKeyPolicy()); err != nil {
				t.Fatal(err)
			}
			second, err := s.CreateAccessKey(ctx, mototest.User{}, "carol")
			if err != nil {
				t.Fatal(err)
			}
			second.Name = "carol"
			if tc.refuse {
				if got, err := s.IssuedSecret(second.AccessKeyID); err != nil || got != second.SecretAccessKey {
					t.Fatalf("IssuedSecret(%s) did not return the key's secret (%v)", second.AccessKeyID, err)
				}
				if _, err := s.IssuedSecret("AKIANOSUCHKEY0000000"); err == nil {
					t.Fatal("IssuedSecret of an unknown key did not fail")
				}
			}
			if err := s.EnableAuth(ctx); err != nil {
				t.Fatal(err)
			}
			keys, err := s.ListAccessKeys(ctx, u, "carol")
			if err != nil {
				t.Fatalf("the active key is refused: %v", err)
			}
			if len(keys) != 2 {
				t.Fatalf("keys = %v, want two", keys)
			}
			if err := s.SetAccessKeyStatus(ctx, second, "carol", u.AccessKeyID, "Inactive"); err != nil {
				t.Fatal(err)
			}
			_, err = s.ListAccessKeys(ctx, u, "carol")
			switch {
			case tc.refuse && err == nil:
				t.Fatal("the shim accepted an inactive key")
			case tc.refuse && !strings.Contains(err.Error(), "InvalidClientTokenId"):
				t.Fatalf("inactive key refused with %v, want InvalidClientTokenId", err)
			case !tc.refuse && err != nil:
				t.Fatalf("plain moto refused an inactive key (FACTS.md says it does not; the shim may no longer be needed): %v", err)
			}
			keys, err = s.ListAccessKeys(ctx, second, "carol")
			if err != nil {
				t.Fatalf("the other key stopped working: %v", err)
			}
			for _, k := range keys {
				if want := map[bool]string{true: "Inactive", false: "Active"}[k.ID == u.AccessKeyID]; k.Status != want {
					t.Fatalf("key %s is %s, want %s", k.ID, k.Status, want)
				}
			}
			if err := s.SetAccessKeyStatus(ctx, second, "carol", u.AccessKeyID, "Active"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.ListAccessKeys(ctx, u, "carol"); err != nil {
				t.Fatalf("the key set Active again is refused: %v", err)
			}
		})
	}
}

// TestNewRotation: the user of a Rotation may list and create its own keys once
// authentication is on, and the admin sees them.
func TestNewRotation(t *testing.T) {
	ctx := context.Background()
	s := mototest.StartRefusingInactive(t)
	rot, err := s.NewRotation(ctx, "rita", "rotator")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnableAuth(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(rot.RoleARN, ":role/rotator") || rot.Admin.AccessKeyID == "" || rot.User.AccessKeyID == "" {
		t.Fatalf("rotation = %+v", rot)
	}
	created, err := s.CreateAccessKey(ctx, rot.User, "rita")
	if err != nil {
		t.Fatalf("the user may not create its own key: %v", err)
	}
	keys, err := s.ListAccessKeys(ctx, rot.Admin, "rita")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || (keys[0].ID != created.AccessKeyID && keys[1].ID != created.AccessKeyID) {
		t.Fatalf("the admin sees %+v, want the user's two keys", keys)
	}
}
