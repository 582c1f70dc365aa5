package miniotest_test

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"testing"

	"github.com/awskeep/awskeep/core/miniotest"
)

func TestPutGet(t *testing.T) {
	s := miniotest.Start(t)
	ctx := context.Background()
	if !regexp.MustCompile(`^[A-Z0-9]{20}$`).MatchString(s.AccessKeyID) || len(s.SecretAccessKey) != 40 {
		t.Fatalf("root credentials %q / %d characters, want the form of an AWS access key", s.AccessKeyID, len(s.SecretAccessKey))
	}
	if err := s.CreateBucket(ctx, "demo-bucket"); err != nil {
		t.Fatal(err)
	}
	body := []byte("hello from minio")
	if err := s.PutObject(ctx, "demo-bucket", "dir/hello.txt", body); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetObject(ctx, "demo-bucket", "dir/hello.txt")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, body) {
		t.Fatalf("GetObject = %q, want %q", got, body)
	}
	if _, err := s.GetObject(ctx, "demo-bucket", "missing"); !miniotest.IsCode(err, "NoSuchKey") {
		t.Fatalf("GetObject of a missing key: %v, want NoSuchKey", err)
	}
}

// TestWrongSecretIsRefused: MinIO really checks signatures.
func TestWrongSecretIsRefused(t *testing.T) {
	s := miniotest.Start(t)
	ctx := context.Background()
	if err := s.CreateBucket(ctx, "wrong-secret"); err != nil {
		t.Fatal(err)
	}
	wrong := []byte(s.SecretAccessKey)
	if wrong[0] = 'A'; s.SecretAccessKey[0] == 'A' {
		wrong[0] = 'B'
	}
	bad := &miniotest.Server{URL: s.URL, AccessKeyID: s.AccessKeyID, SecretAccessKey: string(wrong), Region: s.Region}
	err := bad.PutObject(ctx, "wrong-secret", "k", []byte("x"))
	if !miniotest.IsCode(err, "SignatureDoesNotMatch") {
		t.Fatalf("PUT signed with a wrong secret: %v, want SignatureDoesNotMatch", err)
	}
	if e := err.(*miniotest.Error); e.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d, want 403", e.StatusCode)
	}
	if _, err := s.GetObject(ctx, "wrong-secret", "k"); !miniotest.IsCode(err, "NoSuchKey") {
		t.Fatalf("the refused PUT stored something: %v", err)
	}
	bad.Stop() // a Server built by hand has no process: Stop does nothing
}
