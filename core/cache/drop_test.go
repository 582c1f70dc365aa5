package cache

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestDropAccessKey: entries and answers of the retired key go, those of every other key
// stay, a corrupt file is left alone, and a second drop finds nothing.
func TestDropAccessKey(t *testing.T) {
	c, _ := testCache(t)
	ctx := context.Background()
	old := testKey()
	oldRole := old
	oldRole.RoleARN, oldRole.RoleSessionName = "arn:aws:iam::123456789012:role/deployer", "s"
	other := testKey()
	other.AccessKeyID = "AKIAOTHERKEY00000000"
	if old.AccessKeyID == other.AccessKeyID {
		t.Fatal("test keys share an access key id")
	}
	for _, k := range []Key{old, oldRole, other} {
		if err := c.Put(ctx, k, testCreds(testNow.Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	oldAnswer, otherAnswer := strings.Repeat("a", 16), strings.Repeat("b", 16)
	if err := c.PutAnswer(oldAnswer, []byte("in"), old, renderJSON); err != nil {
		t.Fatal(err)
	}
	if err := c.PutAnswer(otherAnswer, []byte("in"), other, renderJSON); err != nil {
		t.Fatal(err)
	}
	corrupt := c.entryPath(strings.Repeat("c", 64))
	if err := os.WriteFile(corrupt, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}

	n, err := c.DropAccessKey(old.AccessKeyID)
	if err != nil || n != 2 {
		t.Fatalf("DropAccessKey = %d, %v; want 2, nil", n, err)
	}
	for _, k := range []Key{old, oldRole} {
		if _, ok := c.Get(k); ok {
			t.Errorf("entry of the old key (role %q) survived", k.RoleARN)
		}
	}
	if _, ok := c.Get(other); !ok {
		t.Error("entry of another key was dropped")
	}
	if _, err := os.Lstat(c.answerPath(oldAnswer)); err == nil {
		t.Error("the answer rendered from the old key's entry survived")
	}
	if _, ok := c.ReadAnswer(otherAnswer, []byte("in")); !ok {
		t.Error("the answer of another key was dropped")
	}
	if _, err := os.Stat(corrupt); err != nil {
		t.Errorf("a file DropAccessKey cannot read was removed: %v", err)
	}
	if n, err := c.DropAccessKey(old.AccessKeyID); err != nil || n != 0 {
		t.Fatalf("second DropAccessKey = %d, %v; want 0, nil", n, err)
	}
	if _, err := c.DropAccessKey(""); err == nil {
		t.Fatal("DropAccessKey of no key id did not fail")
	}
}
