package creds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestCredentialsNeverPrintSecrets(t *testing.T) {
	c := Credentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "s3cr3t-value", SessionToken: "t0ken-value",
		Expiration: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("got", "creds", c)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("got", "creds", c)
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", c), "%+v": fmt.Sprintf("%+v", c), "%#v": fmt.Sprintf("%#v", c),
		"slog": logged.String(), "pointer %v": fmt.Sprintf("%v", &c),
	}
	for verb, out := range outputs {
		if strings.Contains(out, "s3cr3t") || strings.Contains(out, "t0ken") {
			t.Errorf("%s prints a secret: %s", verb, out)
		}
		if !strings.Contains(out, "ASIAEXAMPLE") {
			t.Errorf("%s does not name the access key id: %s", verb, out)
		}
	}
}

func TestClassOfInnermostWins(t *testing.T) {
	base := context.DeadlineExceeded
	sts := Wrap(ClassSTS, "STS AssumeRole", base)
	outer := Wrap(ClassDevice, "open key", sts) // a later layer cannot reclassify
	if got := ClassOf(outer); got != ClassSTS {
		t.Fatalf("ClassOf = %v, want STS", got)
	}
	if !errors.Is(outer, context.DeadlineExceeded) {
		t.Fatal("the cause is lost")
	}
	if got := outer.Error(); got != "open key: STS AssumeRole: context deadline exceeded" {
		t.Fatalf("Error() = %q", got)
	}
	if ClassOf(errors.New("plain")) != ClassUnknown || Wrap(ClassSTS, "x", nil) != nil {
		t.Fatal("unclassified or nil errors are mishandled")
	}
	wrapped := fmt.Errorf("credential-process: %w", Wrap(ClassDevice, "HMAC", errors.New("boom")))
	if ClassOf(wrapped) != ClassDevice {
		t.Fatal("fmt wrapping hides the class")
	}
}

func TestRemaining(t *testing.T) {
	now := time.Now()
	if (Credentials{}).Remaining(now) < 100*365*24*time.Hour {
		t.Fatal("long-term credentials expire")
	}
	if got := (Credentials{Expiration: now.Add(time.Hour)}).Remaining(now); got != time.Hour {
		t.Fatalf("Remaining = %v", got)
	}
}
