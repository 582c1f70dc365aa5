package backend

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// Scheme is the key URI scheme this backend serves.
const Scheme = "tink"

// KEKPrefix starts every kek= value: Tink's URI for a key of AWS KMS.
const KEKPrefix = "aws-kms://"

// The tink scheme's attributes, registered with keyuri so that Parse (in the plugin, and in
// any host that links this package) rejects unknown ones: path attribute file names the
// keyset; the query attributes say which KMS key wraps it and how to reach KMS.
func init() {
	keyuri.Register(Scheme, keyuri.Schema{
		Path:     []string{"file"},
		Query:    []string{"kek", "kms-endpoint", "region", "profile"},
		Required: []string{"file"},
		Check:    func(u *keyuri.URI) error { _, err := refOf(u); return err },
	})
}

// kmsARN is the form of a KMS key or alias ARN (Tink's awskms package reads the region from
// it the same way): arn:PARTITION:kms:REGION:ACCOUNT:key/ID or alias/NAME.
var kmsARN = regexp.MustCompile(`^arn:(aws[a-zA-Z0-9-]*):kms:([a-z0-9-]+):([0-9]{12}):(key|alias)/[A-Za-z0-9/_.+=,@-]+$`)

// keyRef is what a tink key URI says.
type keyRef struct {
	file     string // absolute path of the encrypted keyset
	kek      string // aws-kms://ARN
	keyID    string // the ARN, what KMS calls the key
	region   string // region= or the ARN's
	endpoint string // kms-endpoint=, "" for the SDK's default
	profile  string // profile=, "" for the SDK's default chain
}

func (r keyRef) String() string {
	return fmt.Sprintf("keyset %s", r.file)
}

// parseKey reads a key URI of the tink scheme. Errors wrap plugins.ErrInvalidKeyURI.
func parseKey(raw string) (keyRef, error) {
	u, err := keyuri.ParseFor(Scheme, raw) // the schema's Check is refOf
	if err != nil {
		return keyRef{}, fmt.Errorf("tink: %w", err)
	}
	return refOf(u)
}

// refOf reads what a URI of the tink scheme says, checking every value. Errors wrap
// plugins.ErrInvalidKeyURI and quote no more of the URI than the attribute at fault.
func refOf(u *keyuri.URI) (keyRef, error) {
	var ref keyRef
	var err error
	file, ok := u.PathAttr("file")
	switch {
	case !ok || file == "":
		return keyRef{}, invalid("file= is required: the path of the encrypted keyset, e.g. tink:file=/etc/awskeep/prod.keyset.json?kek=aws-kms://arn:aws:kms:...")
	case !filepath.IsAbs(file):
		return keyRef{}, invalid("file=%s is not an absolute path (the plugin does not run in your working directory)", quote(file))
	case strings.ContainsRune(file, 0):
		return keyRef{}, invalid("file= holds a NUL byte")
	case strings.HasSuffix(file, "/"):
		return keyRef{}, invalid("file=%s names a directory, not a file", quote(file))
	}
	ref.file = filepath.Clean(file)

	kek, ok := u.QueryAttr("kek")
	if !ok || kek == "" {
		return keyRef{}, invalid("kek= is required: the AWS KMS key that encrypts the keyset, as aws-kms://arn:aws:kms:REGION:ACCOUNT:key/ID")
	}
	arn, ok := strings.CutPrefix(kek, KEKPrefix)
	if !ok {
		return keyRef{}, invalid("kek=%s must start with %s (only AWS KMS keys are supported)", quote(kek), KEKPrefix)
	}
	m := kmsARN.FindStringSubmatch(arn)
	if m == nil {
		return keyRef{}, invalid("kek=%s is not a KMS key ARN (aws-kms://arn:aws:kms:REGION:ACCOUNT:key/ID or .../alias/NAME)", quote(kek))
	}
	ref.kek, ref.keyID, ref.region = kek, arn, m[2]
	if v, ok := u.QueryAttr("region"); ok {
		if v != ref.region {
			return keyRef{}, invalid("region=%s differs from the region of kek= (%s): KMS keys live in one region", quote(v), ref.region)
		}
	}
	if v, ok := u.QueryAttr("kms-endpoint"); ok {
		if ref.endpoint, err = parseEndpoint(v); err != nil {
			return keyRef{}, err
		}
	}
	if v, ok := u.QueryAttr("profile"); ok {
		if v == "" || strings.ContainsFunc(v, func(r rune) bool { return r < 0x21 || r == 0x7f || r == '[' || r == ']' }) {
			return keyRef{}, invalid("profile=%s is not a profile name", quote(v))
		}
		ref.profile = v
	}
	return ref, nil
}

// parseEndpoint accepts an https:// URL, or an http:// one on a loopback address (a local
// KMS in tests): KMS Decrypt answers with the keyset in clear, so it never crosses a
// network unencrypted.
func parseEndpoint(v string) (string, error) {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return "", invalid("kms-endpoint=%s is not a URL such as https://kms.eu-west-1.amazonaws.com", quote(v))
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return "", invalid("kms-endpoint=%s: plain http is allowed only on a loopback address; KMS answers Decrypt with the keyset in clear", quote(v))
		}
	default:
		return "", invalid("kms-endpoint=%s must be an https:// URL", quote(v))
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", plugins.ErrInvalidKeyURI, fmt.Sprintf(format, args...))
}

// quote shortens and quotes user input for an error.
func quote(s string) string {
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return fmt.Sprintf("%q", s)
}
