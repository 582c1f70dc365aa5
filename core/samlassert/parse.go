package samlassert

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/crewjam/saml"
)

// Attribute names AWS reads from the assertion (IAM User Guide, "Configure SAML assertions
// for the authentication response").
const (
	// RoleAttribute lists the roles the user may take: each value is "role ARN,SAML
	// provider ARN" or "SAML provider ARN,role ARN"; AWS accepts both orders.
	RoleAttribute = "https://aws.amazon.com/SAML/Attributes/Role"
	// RoleSessionNameAttribute is the session name STS gives the role session.
	RoleSessionNameAttribute = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
	// SessionDurationAttribute is the longest session, in whole seconds, the IdP allows.
	SessionDurationAttribute = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
)

// ClockSkew is how far this machine's clock may be from the IdP's (and AWS's) before Parse
// calls an assertion expired or not yet valid. Three minutes is what SAML service providers
// commonly allow (crewjam/saml's MaxClockSkew is the same); IdPs usually issue assertions
// valid for five minutes, so a larger allowance would hide a wrong clock behind an STS error.
const ClockSkew = 3 * time.Minute

// MaxResponseSize is the longest SAMLResponse, in base64 characters, Parse reads. An assertion
// with a hundred roles is under 100 KiB; anything near the limit is not a login response.
const MaxResponseSize = 1 << 20

// XML names of the SAML 2.0 protocol and assertion namespaces (saml-core §2.1, §3.1).
const (
	protocolNS  = "urn:oasis:names:tc:SAML:2.0:protocol"
	assertionNS = "urn:oasis:names:tc:SAML:2.0:assertion"
	statusNS    = "urn:oasis:names:tc:SAML:2.0:status:"
	// statusSuccess is saml-core §3.2.2.2's Success. crewjam/saml keeps it in a variable its
	// tests may change; this package uses its own constant.
	statusSuccess = statusNS + "Success"
)

// Parse decodes a base64 SAMLResponse, as an IdP posts it to AWS sign-in (the HTTP POST
// binding, saml-bindings §3.5.4: standard base64; spaces and line breaks are ignored), reads
// it and checks what awskeep can check without the IdP's certificate:
//
//   - the response status is Success (else ErrIdPStatus, with the IdP's status and message);
//   - it holds exactly one assertion, in clear (else ErrEncrypted or ErrMalformed);
//   - every AudienceRestriction names AWS sign-in (IsAWSAudience; else ErrNotForAWS);
//   - now is within NotBefore and NotOnOrAfter, with ClockSkew either side (else
//     ErrNotYetValid or ErrExpired);
//   - the Role attribute has at least one well-formed role pair (else ErrNoRoles);
//   - SessionDuration, when present, is a whole number of seconds (else ErrMalformed).
//
// It does not verify the XML signature: see the package documentation for why. Errors are one
// line, start with "SAML response: ", and never contain the response or its base64.
func Parse(samlResponse string, now time.Time) (*Assertion, error) {
	encoded := stripSpace(samlResponse)
	if encoded == "" {
		return nil, fail(ErrMalformed, "the SAMLResponse is empty: the IdP page had no SAMLResponse value")
	}
	if len(encoded) > MaxResponseSize {
		return nil, fail(ErrMalformed, "the SAMLResponse is %d bytes, more than the %d a login response can be", len(encoded), MaxResponseSize)
	}
	doc, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return nil, fail(ErrMalformed, "the SAMLResponse is not base64 (%v)%s", err, base64Hint(encoded))
	}
	resp, counts, err := decode(doc)
	if err != nil {
		return nil, err
	}
	if err := checkStatus(&resp.Status); err != nil {
		return nil, err
	}
	switch {
	case counts.plain == 0 && counts.encrypted > 0:
		return nil, fail(ErrEncrypted, "the assertion is encrypted, and only AWS holds the key: "+
			"turn off assertion encryption for the AWS application at the IdP (and in the IAM SAML provider)")
	case counts.plain+counts.encrypted == 0 || resp.Assertion == nil:
		return nil, fail(ErrMalformed, "the response holds no assertion")
	case counts.plain+counts.encrypted > 1:
		return nil, fail(ErrMalformed, "the response holds %d assertions; AWS takes a response with one", counts.plain+counts.encrypted)
	}
	sa := resp.Assertion

	if err := checkAudience(sa.Conditions); err != nil {
		return nil, err
	}

	a := &Assertion{encoded: encoded}
	a.Issuer = strings.TrimSpace(sa.Issuer.Value)
	if a.Issuer == "" && resp.Issuer != nil {
		a.Issuer = strings.TrimSpace(resp.Issuer.Value)
	}
	a.NotBefore, a.NotOnOrAfter = validity(sa)
	if !a.NotBefore.IsZero() && now.Add(ClockSkew).Before(a.NotBefore) {
		return nil, fail(ErrNotYetValid, "the assertion is valid from %s, %s after this machine's time %s (%s of clock skew allowed): check this machine's clock",
			stamp(a.NotBefore), a.NotBefore.Sub(now).Round(time.Second), stamp(now), ClockSkew)
	}
	if !a.NotOnOrAfter.IsZero() && !now.Add(-ClockSkew).Before(a.NotOnOrAfter) {
		return nil, fail(ErrExpired, "the assertion expired at %s, %s before this machine's time %s (%s of clock skew allowed): log in at the IdP again, or check this machine's clock",
			stamp(a.NotOnOrAfter), now.Sub(a.NotOnOrAfter).Round(time.Second), stamp(now), ClockSkew)
	}

	var roleValues, badRoleValues int
	for _, st := range sa.AttributeStatements {
		for _, attr := range st.Attributes {
			switch strings.TrimSpace(attr.Name) {
			case RoleAttribute:
				for _, v := range attr.Values {
					roleValues++
					r, ok := parseRoleValue(v.Value)
					if !ok {
						badRoleValues++
						continue
					}
					if !containsRole(a.Roles, r) {
						a.Roles = append(a.Roles, r)
					}
				}
			case RoleSessionNameAttribute:
				if a.RoleSessionName == "" && len(attr.Values) > 0 {
					a.RoleSessionName = strings.TrimSpace(attr.Values[0].Value)
				}
			case SessionDurationAttribute:
				if a.SessionDuration == 0 && len(attr.Values) > 0 {
					d, err := parseDuration(attr.Values[0].Value)
					if err != nil {
						return nil, err
					}
					a.SessionDuration = d
				}
			}
		}
	}
	if len(a.Roles) == 0 {
		if roleValues == 0 {
			return nil, fail(ErrNoRoles, "the assertion has no %s attribute: the user is assigned no AWS role at the IdP", RoleAttribute)
		}
		return nil, fail(ErrNoRoles, "none of the %d values of the assertion's Role attribute is a pair of a role ARN and a SAML provider ARN (\"arn:aws:iam::ACCOUNT:role/NAME,arn:aws:iam::ACCOUNT:saml-provider/NAME\"): fix the Role attribute mapping at the IdP",
			badRoleValues)
	}
	return a, nil
}

// assertionCounts counts the assertions directly inside the Response.
type assertionCounts struct{ plain, encrypted int }

// decode reads doc as a samlp:Response. A first pass over the tokens checks what
// encoding/xml's Unmarshal would not: the root element's name, a DOCTYPE, content after the
// root, and the number of assertions (saml.Response keeps only one).
func decode(doc []byte) (*saml.Response, assertionCounts, error) {
	var counts assertionCounts
	d := xml.NewDecoder(bytes.NewReader(doc))
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, counts, xmlError(err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			// SAML messages carry no DTD; encoding/xml would ignore its declarations, a
			// different reader might not.
			if bytes.HasPrefix(bytes.TrimSpace(t), []byte("DOCTYPE")) {
				return nil, counts, fail(ErrMalformed, "the response has a DOCTYPE declaration, which SAML messages do not carry")
			}
		case xml.StartElement:
			if depth == 0 {
				roots++
				if roots > 1 {
					return nil, counts, fail(ErrMalformed, "the document has content after the Response element")
				}
				if t.Name.Space != protocolNS || t.Name.Local != "Response" {
					return nil, counts, wrongRoot(t.Name)
				}
			}
			if depth == 1 && t.Name.Space == assertionNS {
				switch t.Name.Local {
				case "Assertion":
					counts.plain++
				case "EncryptedAssertion":
					counts.encrypted++
				}
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			// Outside the root only white space may appear, and a byte order mark.
			if depth == 0 && len(bytes.TrimSpace(bytes.TrimPrefix(t, []byte("\ufeff")))) > 0 {
				if roots == 0 {
					return nil, counts, fail(ErrMalformed, "the decoded SAMLResponse is not XML")
				}
				return nil, counts, fail(ErrMalformed, "the document has text after its root element")
			}
		}
	}
	if roots == 0 {
		return nil, counts, fail(ErrMalformed, "the decoded SAMLResponse holds no XML element")
	}
	var resp saml.Response
	if err := xml.Unmarshal(doc, &resp); err != nil {
		return nil, counts, xmlError(err)
	}
	return &resp, counts, nil
}

// xmlError describes an encoding/xml error without repeating the document: a syntax error's
// message can quote element names and text, so only its line is kept.
func xmlError(err error) error {
	var syntax *xml.SyntaxError
	var parse *time.ParseError
	var num *strconv.NumError
	switch {
	case errors.As(err, &syntax) && syntax.Msg == "unexpected EOF":
		return fail(ErrMalformed, "the XML ends early, at line %d: the SAMLResponse was cut short", syntax.Line)
	case errors.As(err, &syntax):
		return fail(ErrMalformed, "the decoded SAMLResponse is not well-formed XML (line %d)", syntax.Line)
	case errors.As(err, &parse):
		return fail(ErrMalformed, "a time in the response is not an xs:dateTime")
	case errors.As(err, &num):
		return fail(ErrMalformed, "a number in the response is not a number")
	default:
		return fail(ErrMalformed, "the decoded SAMLResponse cannot be read as a SAML 2.0 Response")
	}
}

// wrongRoot says what the document is, for the common mistake of posting a whole page or
// another SAML message.
func wrongRoot(name xml.Name) error {
	switch {
	case strings.EqualFold(name.Local, "html"):
		return fail(ErrMalformed, "the decoded SAMLResponse is an HTML page, not a SAML Response")
	case name.Space == protocolNS:
		return fail(ErrMalformed, "the document is a SAML %s, not a Response", quote(name.Local, 40))
	case name.Local == "Response":
		return fail(ErrMalformed, "the document's Response element is in namespace %s, not %s (SAML 2.0)", quote(name.Space, 80), protocolNS)
	default:
		return fail(ErrMalformed, "the document's root element is %s, not a SAML 2.0 Response", quote(name.Local, 40))
	}
}

// checkStatus reports a status other than Success with its codes and message
// (saml-core §3.2.2).
func checkStatus(st *saml.Status) error {
	code := strings.TrimSpace(st.StatusCode.Value)
	if code == statusSuccess {
		return nil
	}
	if code == "" {
		return fail(ErrMalformed, "the response has no status code")
	}
	codes := shortStatus(code)
	if sub := st.StatusCode.StatusCode; sub != nil && strings.TrimSpace(sub.Value) != "" {
		codes += "/" + shortStatus(strings.TrimSpace(sub.Value))
	}
	msg := ""
	if st.StatusMessage != nil && strings.TrimSpace(st.StatusMessage.Value) != "" {
		msg = ": " + quote(strings.TrimSpace(st.StatusMessage.Value), 200)
	}
	return fail(ErrIdPStatus, "the IdP answered with status %s%s", quote(codes, 200), msg)
}

// shortStatus drops the common prefix of SAML status codes: "Responder", "AuthnFailed".
func shortStatus(code string) string {
	if s, ok := strings.CutPrefix(code, statusNS); ok && s != "" {
		return s
	}
	return code
}

// checkAudience requires every AudienceRestriction to name AWS (saml-core §2.5.1.4: the
// assertion is addressed to the audiences of each restriction; all must be satisfied).
func checkAudience(c *saml.Conditions) error {
	if c == nil || len(c.AudienceRestrictions) == 0 {
		return fail(ErrNotForAWS, "the assertion names no audience; AWS needs %s: set the audience (SP entity ID) of the IdP application to it", AudienceURN)
	}
	for _, r := range c.AudienceRestrictions {
		aws := false
		var seen []string
		for _, aud := range r.AllAudiences() {
			if IsAWSAudience(aud.Value) {
				aws = true
				break
			}
			seen = append(seen, strings.TrimSpace(aud.Value))
		}
		if !aws {
			return fail(ErrNotForAWS, "the assertion is for %s, not AWS (%s or %s): this IdP application is not the AWS one, or its audience (SP entity ID) is wrong",
				quoteList(seen, 3), AudienceURN, AudienceSignIn)
		}
	}
	return nil
}

// validity is the window the assertion is valid in: the later NotBefore and the earlier
// NotOnOrAfter of its Conditions (saml-core §2.5.1.2) and of its SubjectConfirmationData
// (§2.4.1.2, which AWS requires to have NotOnOrAfter). Zero times are absent ones.
func validity(sa *saml.Assertion) (notBefore, notOnOrAfter time.Time) {
	later := func(t time.Time) {
		if !t.IsZero() && (notBefore.IsZero() || t.After(notBefore)) {
			notBefore = t
		}
	}
	earlier := func(t time.Time) {
		if !t.IsZero() && (notOnOrAfter.IsZero() || t.Before(notOnOrAfter)) {
			notOnOrAfter = t
		}
	}
	if c := sa.Conditions; c != nil {
		later(c.NotBefore)
		earlier(c.NotOnOrAfter)
	}
	if s := sa.Subject; s != nil {
		for _, sc := range s.SubjectConfirmations {
			if d := sc.SubjectConfirmationData; d != nil {
				later(d.NotBefore)
				earlier(d.NotOnOrAfter)
			}
		}
	}
	if !notBefore.IsZero() {
		notBefore = notBefore.UTC()
	}
	if !notOnOrAfter.IsZero() {
		notOnOrAfter = notOnOrAfter.UTC()
	}
	return notBefore, notOnOrAfter
}

// parseDuration reads SessionDuration: whole seconds, as AWS documents it.
func parseDuration(v string) (time.Duration, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n <= 0 || n > int64(1<<62/time.Second) {
		return 0, fail(ErrMalformed, "the assertion's SessionDuration attribute is not a positive whole number of seconds: fix its mapping at the IdP")
	}
	return time.Duration(n) * time.Second, nil
}

// stripSpace removes the spaces and line breaks base64 text may be wrapped with.
func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n', '\f', '\v':
			return -1
		}
		return r
	}, s)
}

// base64Hint names the usual reason a scraped value is not base64.
func base64Hint(s string) string {
	switch {
	case strings.Contains(s, "%"):
		return ": it looks URL-encoded; decode the form value first"
	case strings.Contains(s, "&"):
		return ": it holds HTML character references; unescape the attribute value first"
	case strings.ContainsAny(s, "-_"):
		return ": it looks like base64url; an IdP posts standard base64"
	}
	return ""
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// fail builds a one-line error of Parse that matches sentinel.
func fail(sentinel error, format string, args ...any) error {
	return &parseError{sentinel: sentinel, msg: fmt.Sprintf(format, args...), prefix: "SAML response: "}
}

// failPick builds a one-line error of PickRole that matches sentinel. It has no prefix: it
// is about the choice of role, not the response, and the caller names the setting that
// chose (awskeep_saml_role_arn).
func failPick(sentinel error, format string, args ...any) error {
	return &parseError{sentinel: sentinel, msg: fmt.Sprintf(format, args...)}
}

// parseError is an error of this package: a sentinel and what was found.
type parseError struct {
	sentinel error
	msg      string
	prefix   string
}

func (e *parseError) Error() string { return e.prefix + e.msg }
func (e *parseError) Unwrap() error { return e.sentinel }

// quote prints a value taken from the response: quoted (so control characters and line
// breaks are escaped) and cut to max runes.
func quote(s string, max int) string {
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "..."
	}
	return strconv.Quote(s)
}

// bare prints s as is when it needs no escaping, quoted otherwise; cut to max runes.
func bare(s string, max int) string {
	if len([]rune(s)) <= max && strconv.Quote(s) == `"`+s+`"` && !strings.ContainsAny(s, " ,") {
		return s
	}
	return quote(s, max)
}

func quoteList(vals []string, max int) string {
	var q []string
	for i, v := range vals {
		if i == max {
			q = append(q, fmt.Sprintf("and %d more", len(vals)-max))
			break
		}
		q = append(q, quote(v, 80))
	}
	return strings.Join(q, ", ")
}
