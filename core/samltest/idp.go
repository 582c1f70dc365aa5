package samltest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/awskeep/awskeep/core/samlassert"
)

// AccountID is the account of DefaultRole; the same as mototest.AccountID.
const AccountID = "123456789012"

// SignInURL is where the SSO page posts the SAMLResponse: AWS sign-in, the assertion consumer
// service of AWS's SAML metadata. It is also the assertions' Recipient and Destination.
const SignInURL = "https://signin.aws.amazon.com/saml"

// OktaAppPath is the path of the fake Okta AWS application's SAML URL (see OktaAppURL).
const OktaAppPath = "/app/amazon_aws/exk1awskeeptest/sso/saml"

// DefaultRole is the role of every user when Options.Roles is nil.
var DefaultRole = AWSRole(AccountID, "awskeep-saml", "awskeep-idp")

// AWSRole returns the role pair for role NAME and SAML provider PROVIDER in account.
func AWSRole(account, role, provider string) samlassert.Role {
	return samlassert.Role{
		RoleARN:      "arn:aws:iam::" + account + ":role/" + role,
		PrincipalARN: "arn:aws:iam::" + account + ":saml-provider/" + provider,
	}
}

// Options configure the IdP. The zero value is an IdP with no users that issues assertions
// with DefaultRole, valid for five minutes, for AWS.
type Options struct {
	// Users are the accounts of the form login and the Okta API: user name -> password.
	// Response and SSOPage issue assertions for any user name.
	Users map[string]string
	// Locked users are refused even with the right password: the form shows "locked", Okta
	// answers status LOCKED_OUT.
	Locked []string
	// TOTP gives users a TOTP factor in the Okta API (status MFA_REQUIRED): user name -> the
	// one passcode the factor accepts.
	TOTP map[string]string
	// Push gives users an Okta Verify push factor in the Okta API (status MFA_REQUIRED):
	// user name -> what the phone does with every push, PushApprove, PushReject or
	// PushIgnore. A user may have both factors; the push is listed first.
	Push map[string]PushAnswer
	// PushWaits is how many answers a push stays WAITING (the verify call and the polls
	// after it) before the phone's answer comes; zero means 1.
	PushWaits int

	// Roles are the Role attribute of every user's assertion; nil means DefaultRole alone.
	// Several roles go in one attribute with several values, as Okta and ADFS send them
	// (moto's AssumeRoleWithSAML answers HTTP 500 to those: give moto tests one role).
	Roles []samlassert.Role
	// UserRoles override Roles for the users they name; an empty (non-nil or nil) list
	// gives that user an assertion with no Role attribute at all.
	UserRoles map[string][]samlassert.Role
	// PrincipalFirst writes each role value "principal,role" instead of "role,principal".
	PrincipalFirst bool
	// SessionName is the RoleSessionName attribute; "" means the user name.
	SessionName string
	// NoSessionName leaves the RoleSessionName attribute out.
	NoSessionName bool
	// SessionDuration, if set, is written as the SessionDuration attribute, in seconds.
	SessionDuration time.Duration

	// Audience is the assertion's audience (the AWS application's SP entity ID); default
	// samlassert.AudienceURN, "urn:amazon:webservices".
	Audience string
	// Validity is how long an assertion is valid after its issue time (Conditions and
	// SubjectConfirmationData NotOnOrAfter); default 5 minutes, as Okta and ADFS. Negative
	// values issue assertions that have already expired.
	Validity time.Duration
	// Now is the IdP's clock; default time.Now. A clock an hour ahead issues assertions that
	// are not yet valid, one an hour behind expired ones.
	Now func() time.Time
	// EncryptAssertion encrypts assertions (saml:EncryptedAssertion) to a key only the "SP"
	// holds, as IdPs do when the IAM SAML provider asks for encryption.
	EncryptAssertion bool
	// Modify, if set, edits each assertion before it is signed.
	Modify func(user string, a *saml.Assertion)

	// Form names the fields of the form login; see Form and ADFSForm.
	Form Form
}

// IdP is a running identity provider.
type IdP struct {
	// URL is http://127.0.0.1:PORT.
	URL string
	// LoginURL is the form login page: URL + Form.Path.
	LoginURL string
	// SSOURL is the page that, with the login cookie, carries the SAMLResponse.
	SSOURL string
	// OktaAppURL is the Okta AWS application's SAML URL: GET it with ?sessionToken=.
	OktaAppURL string
	// BrokenURL is a page with a form but no SAMLResponse.
	BrokenURL string
	// MetadataURL serves the IdP's SAML metadata (its entity ID and signing certificate).
	MetadataURL string

	opts     Options
	audience string
	validity time.Duration
	now      func() time.Time
	form     Form
	keys     *keyPair
	spKeys   *keyPair
	srv      *httptest.Server
	mux      *http.ServeMux

	mu            sync.Mutex
	sessions      map[string]string // form login cookie -> user
	stateTokens   map[string]string // Okta stateToken -> user
	sessionTokens map[string]string // Okta sessionToken -> user
	pushes        map[string]int    // Okta stateToken -> WAITING answers left for its push
	failed        map[string]int    // user -> wrong passwords and passcodes
	passcodes     map[string]int    // user -> TOTP passcodes checked, right or wrong
	pushesSent    map[string]int    // user -> pushes sent to the phone
}

// Start starts an IdP on a free 127.0.0.1 port; it stops when the test ends.
func Start(t testing.TB, opts Options) *IdP {
	t.Helper()
	keys, err := idpKeys()
	if err != nil {
		t.Fatalf("samltest: IdP key: %v", err)
	}
	i := &IdP{
		opts:          opts,
		audience:      opts.Audience,
		validity:      opts.Validity,
		now:           opts.Now,
		form:          opts.Form.withDefaults(),
		keys:          keys,
		mux:           http.NewServeMux(),
		sessions:      map[string]string{},
		stateTokens:   map[string]string{},
		sessionTokens: map[string]string{},
		pushes:        map[string]int{},
		failed:        map[string]int{},
		passcodes:     map[string]int{},
		pushesSent:    map[string]int{},
	}
	if i.audience == "" {
		i.audience = samlassert.AudienceURN
	}
	if i.validity == 0 {
		i.validity = 5 * time.Minute
	}
	if i.now == nil {
		i.now = time.Now
	}
	if opts.EncryptAssertion {
		if i.spKeys, err = spKeys(); err != nil {
			t.Fatalf("samltest: SP key: %v", err)
		}
	}
	i.routes()
	i.srv = httptest.NewServer(i.mux)
	t.Cleanup(i.srv.Close)
	i.URL = i.srv.URL
	i.LoginURL = i.URL + i.form.Path
	i.SSOURL = i.URL + "/sso"
	i.OktaAppURL = i.URL + OktaAppPath
	i.BrokenURL = i.URL + "/broken"
	i.MetadataURL = i.URL + "/metadata"
	return i
}

// Handle mounts another handler on the IdP's server, for example an SPNEGO-protected login
// that calls SSOPage. The pattern is http.ServeMux's.
func (i *IdP) Handle(pattern string, h http.Handler) { i.mux.Handle(pattern, h) }

// Certificate is the IdP's signing certificate.
func (i *IdP) Certificate() *x509.Certificate { return i.keys.cert }

// Metadata returns the IdP's SAML metadata document (also served at MetadataURL).
func (i *IdP) Metadata(t testing.TB) []byte {
	t.Helper()
	b, err := xml.MarshalIndent(i.identityProvider(i.now()).Metadata(), "", "  ")
	if err != nil {
		t.Fatalf("samltest: metadata: %v", err)
	}
	return b
}

// FailedLogins counts the wrong passwords (form and Okta) and wrong passcodes (Okta) the IdP
// saw for user: a client must never retry one on its own.
func (i *IdP) FailedLogins(user string) int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.failed[user]
}

// PasscodesChecked counts the TOTP passcodes, right or wrong, the Okta API checked for user:
// one per verify call that carried one. A client must send one code per login, and never
// send a refused one again.
func (i *IdP) PasscodesChecked(user string) int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.passcodes[user]
}

// PushesSent counts the pushes the Okta API sent to user's phone: one per verify call that
// started a push (the polls that follow send none).
func (i *IdP) PushesSent(user string) int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.pushesSent[user]
}

// Response returns a signed SAMLResponse for user, base64-encoded as the IdP would post it.
func (i *IdP) Response(t testing.TB, user string) string {
	t.Helper()
	req, err := i.issue(httptest.NewRequest(http.MethodGet, i.SSOURL, nil), user)
	if err != nil {
		t.Fatalf("samltest: issue an assertion for %s: %v", user, err)
	}
	form, err := req.PostBinding()
	if err != nil {
		t.Fatalf("samltest: sign the response for %s: %v", user, err)
	}
	return form.SAMLResponse
}

// ErrorResponse returns a signed SAMLResponse with no assertion and a status other than
// Success, as an IdP sends when it refuses a login: status is a top-level code (such as
// saml.StatusResponder), second an optional second-level one (saml.StatusAuthnFailed),
// message an optional StatusMessage.
func (i *IdP) ErrorResponse(t testing.TB, status, second, message string) string {
	t.Helper()
	req, err := i.idpInitiated(httptest.NewRequest(http.MethodGet, i.SSOURL, nil), i.now())
	if err == nil {
		err = req.MakeErrorResponse(status, second, message)
	}
	if err != nil {
		t.Fatalf("samltest: error response: %v", err)
	}
	form, err := req.PostBinding()
	if err != nil {
		t.Fatalf("samltest: sign the error response: %v", err)
	}
	return form.SAMLResponse
}

// SSOPage writes the page an IdP shows a logged-in user: an HTML form that posts the
// SAMLResponse for user to SignInURL and submits itself. Handlers of other login methods
// (Kerberos/SPNEGO) call it once they know the user.
func (i *IdP) SSOPage(w http.ResponseWriter, r *http.Request, user string) {
	req, err := i.issue(r, user)
	if err == nil {
		err = req.WriteResponse(w)
	}
	if err != nil {
		http.Error(w, "samltest: "+err.Error(), http.StatusInternalServerError)
	}
}

// identityProvider is a crewjam/saml IdP whose clock stands at now: a fresh one per
// assertion, so that Options.Now is read once per assertion and concurrent requests share no
// mutable state.
func (i *IdP) identityProvider(now time.Time) *saml.IdentityProvider {
	base, _ := url.Parse(i.URL)
	return &saml.IdentityProvider{
		Key:                     i.keys.key,
		Certificate:             i.keys.cert,
		MetadataURL:             *base.JoinPath("metadata"),
		SSOURL:                  *base.JoinPath("sso"),
		ServiceProviderProvider: awsProvider{i},
		Clock:                   dsig.NewFakeClockAt(now),
	}
}

// idpInitiated starts an IdP-initiated response to AWS, as the IdP's AWS application does.
func (i *IdP) idpInitiated(r *http.Request, now time.Time) (*saml.IdpAuthnRequest, error) {
	return i.identityProvider(now).NewIdpInitiatedRequest(r, i.audience, "")
}

// issue makes the (unsigned) assertion for user; PostBinding or WriteResponse signs it.
func (i *IdP) issue(r *http.Request, user string) (*saml.IdpAuthnRequest, error) {
	now := i.now()
	req, err := i.idpInitiated(r, now)
	if err != nil {
		return nil, err
	}
	session := &saml.Session{
		ID:           randomToken(),
		CreateTime:   now,
		ExpireTime:   now.Add(time.Hour),
		Index:        randomToken(),
		NameID:       user,
		NameIDFormat: string(saml.PersistentNameIDFormat),
		// No UserName or UserEmail: their attributes would come before the Role attribute,
		// and moto's AssumeRoleWithSAML reads the Role attribute only when it is first.
		CustomAttributes: i.attributes(user),
	}
	if err := (saml.DefaultAssertionMaker{}).MakeAssertion(req, session); err != nil {
		return nil, err
	}
	a := req.Assertion
	end := now.Add(i.validity)
	if a.Conditions != nil {
		a.Conditions.NotOnOrAfter = end
	}
	if a.Subject != nil {
		for k := range a.Subject.SubjectConfirmations {
			if d := a.Subject.SubjectConfirmations[k].SubjectConfirmationData; d != nil {
				d.NotOnOrAfter = end
			}
		}
	}
	if i.opts.Modify != nil {
		i.opts.Modify(user, a)
	}
	return req, nil
}

// attributes are the AWS attributes of user's assertion, the Role attribute first.
func (i *IdP) attributes(user string) []saml.Attribute {
	roles := i.opts.Roles
	if roles == nil {
		roles = []samlassert.Role{DefaultRole}
	}
	if r, ok := i.opts.UserRoles[user]; ok {
		roles = r
	}
	var attrs []saml.Attribute
	if len(roles) > 0 {
		role := uriAttribute(samlassert.RoleAttribute)
		for _, r := range roles {
			v := r.RoleARN + "," + r.PrincipalARN
			if i.opts.PrincipalFirst {
				v = r.PrincipalARN + "," + r.RoleARN
			}
			role.Values = append(role.Values, stringValue(v))
		}
		attrs = append(attrs, role)
	}
	if !i.opts.NoSessionName {
		name := i.opts.SessionName
		if name == "" {
			name = user
		}
		a := uriAttribute(samlassert.RoleSessionNameAttribute)
		a.Values = []saml.AttributeValue{stringValue(name)}
		attrs = append(attrs, a)
	}
	if i.opts.SessionDuration > 0 {
		a := uriAttribute(samlassert.SessionDurationAttribute)
		a.Values = []saml.AttributeValue{stringValue(fmt.Sprint(int64(i.opts.SessionDuration / time.Second)))}
		attrs = append(attrs, a)
	}
	return attrs
}

func uriAttribute(name string) saml.Attribute {
	return saml.Attribute{Name: name, NameFormat: "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"}
}

func stringValue(v string) saml.AttributeValue {
	return saml.AttributeValue{Type: "xs:string", Value: v}
}

// awsProvider knows one service provider: AWS sign-in, as its published metadata
// (https://signin.aws.amazon.com/static/saml-metadata.xml) describes it, under the
// configured audience as entity ID.
type awsProvider struct{ i *IdP }

func (p awsProvider) GetServiceProvider(_ *http.Request, id string) (*saml.EntityDescriptor, error) {
	sp := saml.SPSSODescriptor{
		SSODescriptor: saml.SSODescriptor{RoleDescriptor: saml.RoleDescriptor{
			ProtocolSupportEnumeration: "urn:oasis:names:tc:SAML:2.0:protocol",
		}},
		AssertionConsumerServices: []saml.IndexedEndpoint{{
			Binding: saml.HTTPPostBinding, Location: SignInURL, Index: 1,
		}},
	}
	if p.i.spKeys != nil {
		sp.KeyDescriptors = []saml.KeyDescriptor{{
			Use: "encryption",
			KeyInfo: saml.KeyInfo{X509Data: saml.X509Data{X509Certificates: []saml.X509Certificate{{
				Data: base64.StdEncoding.EncodeToString(p.i.spKeys.cert.Raw),
			}}}},
		}}
	}
	return &saml.EntityDescriptor{EntityID: id, SPSSODescriptors: []saml.SPSSODescriptor{sp}}, nil
}

// keyPair is an RSA key with a self-signed certificate.
type keyPair struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

// The keys are made once per test binary: RSA key generation costs tens of milliseconds.
var (
	idpKeys = sync.OnceValues(func() (*keyPair, error) { return newKeyPair("awskeep samltest IdP") })
	spKeys  = sync.OnceValues(func() (*keyPair, error) { return newKeyPair("awskeep samltest SP") })
)

func newKeyPair(cn string) (*keyPair, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-24 * time.Hour),
		NotAfter:     time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &keyPair{key: key, cert: cert}, nil
}

// randomToken is an unguessable token for cookies, state and session tokens.
func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
