package backend

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/processcreds"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/awskeep/awskeep/plugins"
)

// errKeysetInvalid says a decrypted keyset is not what this backend writes.
var errKeysetInvalid = errors.New("not an awskeep keyset")

// failure is an error translated for the host. It wraps exactly one of the contract's
// sentinels; the cause is kept as text only, so that nothing in it (a context error inside
// an HTTP client's timeout, a sentinel of a library) is mistaken for a second one.
type failure struct {
	op       string
	sentinel error
	hint     string
	err      error
}

func (e *failure) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tink: %s: %v", e.op, e.sentinel)
	if e.hint != "" {
		b.WriteString(": " + e.hint)
	}
	if e.err != nil {
		b.WriteString(" (" + strings.TrimPrefix(e.err.Error(), "tink: ") + ")")
	}
	return b.String()
}

func (e *failure) Unwrap() error { return e.sentinel }

func fail(op string, sentinel error, hint string, err error) error {
	return &failure{op: op, sentinel: sentinel, hint: hint, err: err}
}

// translateKMS maps an error of an AWS KMS call (through Tink's awskms AEAD) during a call
// whose context is ctx to the contract's sentinels. KMS error codes: AWS KMS API
// Reference, "Common Errors" and each action's "Errors" section. Once ctx has ended the
// error is ctx's, so the host sees its own cancellation or deadline.
func translateKMS(ctx context.Context, op string, ref keyRef, err error) error {
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("tink: %s: %w", op, ctxErr)
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		code := api.ErrorCode()
		cause := errors.New("KMS " + code) // the message may quote the request; the code is enough
		switch code {
		case "IncorrectKeyException":
			return fail(op, plugins.ErrInvalidKeyURI, "the keyset was encrypted under another KMS key than kek="+ref.kek, cause)
		case "AccessDeniedException":
			return fail(op, plugins.ErrPermissionDenied,
				"KMS refused: the plugin's AWS credentials lack kms:Decrypt/kms:Encrypt on "+ref.kek+
					", or the keyset was encrypted under another KMS key", cause)
		case "UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException",
			"SignatureDoesNotMatch", "ExpiredTokenException", "IncompleteSignature", "MissingAuthenticationToken":
			return fail(op, plugins.ErrPermissionDenied, "KMS refused the plugin's AWS credentials (see docs/backend-tink.md for how the plugin gets them)", cause)
		case "NotFoundException":
			return fail(op, plugins.ErrInvalidKeyURI, "KMS has no key "+ref.kek+" in "+ref.region, cause)
		case "InvalidCiphertextException":
			return fail(op, plugins.ErrDevice, "KMS cannot decrypt the keyset: the file was altered or is corrupt", cause)
		case "DisabledException", "KMSInvalidStateException":
			return fail(op, plugins.ErrDeviceUnavailable, "the KMS key "+ref.kek+" is disabled or pending deletion", cause)
		case "KeyUnavailableException", "DependencyTimeoutException", "KMSInternalException",
			"ThrottlingException", "LimitExceededException", "ServiceUnavailable", "InternalFailure":
			return fail(op, plugins.ErrDeviceUnavailable, "KMS is unavailable, try again", cause)
		}
		return fail(op, plugins.ErrDevice, "KMS failed", cause)
	}
	var process *processcreds.ProviderError
	if errors.As(err, &process) {
		// The profile's credential_process failed. If it runs awskeep with a key of this
		// plugin, it would start this plugin again, which would run the process again: the
		// awskeep under a plugin refuses ($AWSKEEP_PLUGIN_DEPTH), and this is what the
		// outermost awskeep reports. The process's own message is in the plugin's log; its
		// error text is not kept, since the SDK quotes the process's output in it (which may
		// be credentials), only its exit status.
		var cause error
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			cause = errors.New("credential_process " + exit.ProcessState.String())
		}
		return fail(op, plugins.ErrPermissionDenied, "the credential_process of the AWS profile the plugin uses for KMS ("+profileName(ref)+
			") failed: if it runs awskeep, that is a loop awskeep refuses ($AWSKEEP_PLUGIN_DEPTH): "+
			"give the plugin KMS credentials that do not come from awskeep (profile= naming a profile of its own, an instance role)", cause)
	}
	var signing *v4.SigningError
	var none *noCredentialsError
	if errors.As(err, &none) || errors.As(err, &signing) {
		// The signer fails when the credential chain gives nothing.
		return fail(op, plugins.ErrPermissionDenied,
			"the plugin found no AWS credentials for KMS: give it a profile (profile= in the URI, ~/.aws/credentials) or list "+
				"AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, AWS_PROFILE in $AWSKEEP_PLUGIN_ENV", nil)
	}
	var noProfile config.SharedConfigProfileNotExistError
	if errors.As(err, &noProfile) {
		return fail(op, plugins.ErrInvalidKeyURI, "the AWS profile "+quote(ref.profile)+" of profile= is in neither AWS config file the plugin reads "+
			"(~/.aws/config and ~/.aws/credentials, or the files of AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE when "+
			"$AWSKEEP_PLUGIN_ENV lets them through)", nil)
	}
	var send *smithyhttp.RequestSendError
	if errors.As(err, &send) || plugins.SystemSentinel(err) == plugins.ErrDeviceUnavailable {
		return fail(op, plugins.ErrDeviceUnavailable, "KMS at "+endpointName(ref)+" cannot be reached", err)
	}
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) && resp.HTTPStatusCode() != 0 {
		// An answer without a KMS error code: a proxy, or moto's IAM check, which answers
		// in XML.
		status := resp.HTTPStatusCode()
		cause := fmt.Errorf("KMS answered HTTP %d", status)
		switch {
		case status == 401 || status == 403:
			return fail(op, plugins.ErrPermissionDenied,
				"KMS refused: the plugin's AWS credentials lack kms:Decrypt/kms:Encrypt on "+ref.kek, cause)
		case status == 429 || status >= 500:
			return fail(op, plugins.ErrDeviceUnavailable, "KMS is unavailable, try again", cause)
		}
		return fail(op, plugins.ErrDevice, "KMS failed", cause)
	}
	return fail(op, plugins.ErrDevice, "KMS call failed", err)
}

// translateFS maps an error of the keyset file to the contract's sentinels: a missing file
// is ErrKeyNotFound, one in the way ErrKeyExists, the rest as plugins.SystemSentinel says.
func translateFS(ctx context.Context, op string, ref keyRef, err error) error {
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("tink: %s: %w", op, ctxErr)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fail(op, plugins.ErrKeyNotFound, "no keyset at "+ref.file+": import the key first", nil)
	case errors.Is(err, fs.ErrPermission):
		return fail(op, plugins.ErrPermissionDenied, "the plugin may not access "+ref.file+" or its directory", nil)
	case errors.Is(err, fs.ErrExist):
		return fail(op, plugins.ErrKeyExists, "a keyset is at "+ref.file+" already: import with --force to replace it", nil)
	case errors.Is(err, syscall.EROFS):
		return fail(op, plugins.ErrPermissionDenied, "the file system of "+ref.file+" is read-only", nil)
	}
	if s := plugins.SystemSentinel(err); s != nil {
		return fail(op, s, "", err)
	}
	return fail(op, plugins.ErrDevice, "", err)
}

func endpointName(ref keyRef) string {
	if ref.endpoint != "" {
		return ref.endpoint
	}
	return "the default endpoint of " + ref.region
}

// profileName names the AWS profile the plugin uses for KMS: profile= of ref, else the
// SDK's default.
func profileName(ref keyRef) string {
	if ref.profile != "" {
		return "profile " + quote(ref.profile)
	}
	return "the default profile"
}
