package mototest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/core/mototest"
)

func TestBootstrap(t *testing.T) {
	s := mototest.Start(t)
	ctx := context.Background()
	u, err := s.CreateUser(ctx, "alice", true)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.AccessKeyID, "AKIA") || len(u.SecretAccessKey) != 40 {
		t.Fatalf("user = %+v", u.Name)
	}
	arn, err := s.CreateRole(ctx, "deployer", u.ARN)
	if err != nil {
		t.Fatal(err)
	}
	if arn != "arn:aws:iam::"+mototest.AccountID+":role/deployer" {
		t.Fatalf("role ARN = %q", arn)
	}
	if err := s.PutObject(ctx, "demo-bucket", "hello.txt", "hello"); err != nil {
		t.Fatal(err)
	}
	if err := s.EnableAuth(ctx); err != nil {
		t.Fatal(err)
	}
	// Now the bootstrap key is refused: moto really checks signatures.
	if _, err := s.CreateUser(ctx, "bob", false); err == nil {
		t.Fatal("moto accepted an unknown key after EnableAuth")
	}
}
