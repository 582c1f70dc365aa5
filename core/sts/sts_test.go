package sts_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/devicekey"
	"github.com/awskeep/awskeep/core/mototest"
	"github.com/awskeep/awskeep/core/sts"
	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/conformance"
	"github.com/awskeep/awskeep/plugins/example"
)

// world is a moto with an allowed user, a user with no permissions, and a role.
type world struct {
	moto    *mototest.Server
	alice   mototest.User
	mallory mototest.User
	roleARN string
}

func newWorld(t *testing.T) world {
	t.Helper()
	ctx := context.Background()
	w := world{moto: mototest.Start(t)}
	var err error
	if w.alice, err = w.moto.CreateUser(ctx, "alice", true); err != nil {
		t.Fatal(err)
	}
	if w.mallory, err = w.moto.CreateUser(ctx, "mallory", false); err != nil {
		t.Fatal(err)
	}
	if w.roleARN, err = w.moto.CreateRole(ctx, "deployer", w.alice.ARN, w.mallory.ARN); err != nil {
		t.Fatal(err)
	}
	if err := w.moto.EnableAuth(ctx); err != nil {
		t.Fatal(err)
	}
	return w
}

// deviceClient imports secret into backend b under a fresh key and returns an STS client
// that signs with it.
func deviceClient(t *testing.T, b plugins.Backend, w world, akid, secret string) *sts.Client {
	t.Helper()
	key := plugins.Key{URI: fmt.Sprintf("example:name=%s-%d", akid, time.Now().UnixNano())}
	if err := b.ImportKey(context.Background(), key, devicekey.Material(secret), plugins.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	return sts.New(devicekey.Deriver(b, key), akid, func(o *sts.Options) { o.EndpointURL = w.moto.URL })
}

// callerIdentity asks moto who the temporary credentials belong to, with the plain SDK:
// an independent signer checks that the credentials work.
func callerIdentity(t *testing.T, w world, c creds.Credentials) string {
	t.Helper()
	api := awssts.New(awssts.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(w.moto.URL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}, nil
		}),
	})
	out, err := api.GetCallerIdentity(context.Background(), &awssts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("moto refused the temporary credentials: %v", err)
	}
	return aws.ToString(out.Arn)
}

func TestWithDeviceKey(t *testing.T) {
	w := newWorld(t)
	backends := map[string]plugins.Backend{
		"in process": example.New(),
		"plugin":     conformance.LaunchPlugin(t, conformance.BuildPlugin(t, "github.com/awskeep/awskeep/plugins/example/cmd/awskeep-plugin-example")),
	}
	for name, b := range backends {
		t.Run(name, func(t *testing.T) {
			c := deviceClient(t, b, w, w.alice.AccessKeyID, w.alice.SecretAccessKey)
			ctx := context.Background()

			t.Run("GetCallerIdentity", func(t *testing.T) {
				id, err := c.GetCallerIdentity(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if id.ARN != w.alice.ARN || id.Account != mototest.AccountID {
					t.Fatalf("identity = %+v, want %s", id, w.alice.ARN)
				}
			})
			t.Run("AssumeRole", func(t *testing.T) {
				creds, err := c.AssumeRole(ctx, sts.AssumeRoleInput{
					RoleARN: w.roleARN, RoleSessionName: "ci-run", Duration: 30 * time.Minute,
					ExternalID: "ext-42", SourceIdentity: "alice", Tags: map[string]string{"team": "infra"},
				})
				if err != nil {
					t.Fatal(err)
				}
				if !creds.Expiration.After(time.Now().Add(15 * time.Minute)) {
					t.Fatalf("expiration %v is too soon", creds.Expiration)
				}
				want := "arn:aws:sts::" + mototest.AccountID + ":assumed-role/deployer/ci-run"
				if got := callerIdentity(t, w, creds); got != want {
					t.Fatalf("assumed identity = %q, want %q", got, want)
				}
				if s := fmt.Sprintf("%v %+v %#v", creds, creds, creds); strings.Contains(s, creds.SecretAccessKey) || strings.Contains(s, creds.SessionToken) {
					t.Fatal("Credentials print their secret")
				}
			})
			t.Run("GetSessionToken", func(t *testing.T) {
				creds, err := c.GetSessionToken(ctx, sts.GetSessionTokenInput{Duration: time.Hour})
				if err != nil {
					t.Fatal(err)
				}
				// moto always answers with the same fixed key (FACTS.md), so only the shape is checked.
				if creds.AccessKeyID == "" || creds.SecretAccessKey == "" || creds.SessionToken == "" || creds.Expiration.IsZero() {
					t.Fatalf("incomplete credentials: %v", creds)
				}
			})
		})
	}
}

func TestErrors(t *testing.T) {
	w := newWorld(t)
	b := example.New()
	ctx := context.Background()

	t.Run("wrong secret is SignatureDoesNotMatch", func(t *testing.T) {
		wrong := "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
		c := deviceClient(t, b, w, w.alice.AccessKeyID, wrong)
		_, err := c.AssumeRole(ctx, sts.AssumeRoleInput{RoleARN: w.roleARN, RoleSessionName: "x"})
		var api *sts.APIError
		if !errors.As(err, &api) || api.Code != "SignatureDoesNotMatch" {
			t.Fatalf("got %v, want SignatureDoesNotMatch", err)
		}
		if strings.Contains(err.Error(), wrong) {
			t.Fatal("error contains the secret")
		}
	})
	t.Run("user without permission is AccessDenied", func(t *testing.T) {
		c := deviceClient(t, b, w, w.mallory.AccessKeyID, w.mallory.SecretAccessKey)
		_, err := c.AssumeRole(ctx, sts.AssumeRoleInput{RoleARN: w.roleARN, RoleSessionName: "x"})
		var api *sts.APIError
		if !errors.As(err, &api) || api.Code != "AccessDenied" {
			t.Fatalf("got %v, want AccessDenied", err)
		}
	})
	t.Run("device errors keep their identity", func(t *testing.T) {
		key := plugins.Key{URI: "example:name=missing"}
		c := sts.New(devicekey.Deriver(b, key), w.alice.AccessKeyID, func(o *sts.Options) { o.EndpointURL = w.moto.URL })
		_, err := c.GetCallerIdentity(ctx)
		if !errors.Is(err, plugins.ErrKeyNotFound) {
			t.Fatalf("got %v, want ErrKeyNotFound", err)
		}
	})
	t.Run("unreachable endpoint", func(t *testing.T) {
		key := plugins.Key{URI: "example:name=unreachable"}
		if err := b.ImportKey(ctx, key, devicekey.Material("secret"), plugins.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		c := sts.New(devicekey.Deriver(b, key), "AKIA", func(o *sts.Options) {
			o.EndpointURL = "http://127.0.0.1:1"
			o.RetryMaxAttempts = 1
		})
		_, err := c.GetSessionToken(ctx, sts.GetSessionTokenInput{})
		if !errors.Is(err, sts.ErrUnreachable) {
			t.Fatalf("got %v, want ErrUnreachable", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		short, cancel := context.WithTimeout(ctx, time.Nanosecond)
		defer cancel()
		<-short.Done()
		c := deviceClient(t, b, w, w.alice.AccessKeyID, w.alice.SecretAccessKey)
		_, err := c.GetCallerIdentity(short)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want DeadlineExceeded", err)
		}
	})
}
