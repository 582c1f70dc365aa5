package devicesign

import (
	"context"
	"fmt"
	"reflect"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"
)

// Apply makes every service client built from cfg (s3.NewFromConfig(cfg), ...) sign its
// requests with the device key: it sets cfg.Credentials to the key's public half (the
// access key ID; the secret stays in the device), adds a cfg.ServiceOptions hook that puts
// the Key's Signer in each client's HTTPSignerV4 option, and sets cfg.Region to the
// Key's region when cfg has none. Clients built from cfg before Apply are not affected.
//
// A service client without an HTTPSignerV4 option (one that signs with bearer tokens only)
// gets a middleware that fails each call with an error naming the service, instead of
// sending requests the device did not sign.
func (k *Key) Apply(cfg *aws.Config) {
	public := aws.Credentials{AccessKeyID: k.settings.AccessKeyID, Source: "awskeep device key"}
	cfg.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		if k.closed.Load() {
			return aws.Credentials{}, ErrClosed
		}
		return public, nil
	})
	if cfg.Region == "" {
		cfg.Region = k.settings.Region
	}
	signer := k.Signer()
	cfg.ServiceOptions = append(cfg.ServiceOptions, func(serviceID string, options any) {
		setSigner(serviceID, options, signer)
	})
}

// setSigner sets the HTTPSignerV4 field of a service's *Options. Every service package
// declares its own HTTPSignerV4 interface with the same method, so one Signer fits all;
// reflection reaches the field without importing every service.
func setSigner(serviceID string, options any, signer Signer) {
	v := reflect.ValueOf(options)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return
	}
	o := v.Elem()
	if f := o.FieldByName("HTTPSignerV4"); f.IsValid() && f.CanSet() && reflect.TypeOf(signer).AssignableTo(f.Type()) {
		f.Set(reflect.ValueOf(signer))
		return
	}
	if f := o.FieldByName("APIOptions"); f.IsValid() && f.CanSet() && f.Type() == reflect.TypeFor[[]func(*middleware.Stack) error]() {
		refuse := func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("awskeepNoSigV4", func(context.Context, middleware.InitializeInput, middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				return middleware.InitializeOutput{}, middleware.Metadata{}, fmt.Errorf("devicesign: service %s has no SigV4 signer option; awskeep cannot sign its requests with the device key", serviceID)
			}), middleware.Before)
		}
		f.Set(reflect.Append(f, reflect.ValueOf(refuse)))
	}
}
