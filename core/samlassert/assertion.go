package samlassert

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Assertion is what awskeep needs from a checked SAMLResponse: the roles to choose from, the
// session attributes, the validity window, and the response itself for STS. String, GoString
// and LogValue never print the response: it is a bearer credential until it expires.
type Assertion struct {
	// Roles are the well-formed values of the Role attribute, in document order, without
	// duplicates. Parse never returns an Assertion without one.
	Roles []Role
	// RoleSessionName is the RoleSessionName attribute; "" when absent (STS then refuses the
	// assertion).
	RoleSessionName string
	// SessionDuration is the SessionDuration attribute; 0 when absent.
	SessionDuration time.Duration
	// Issuer is the assertion's Issuer (the IdP's entity ID), or the response's when the
	// assertion has none.
	Issuer string
	// NotBefore and NotOnOrAfter bound the assertion's validity: the later NotBefore and the
	// earlier NotOnOrAfter of its Conditions and SubjectConfirmationData, in UTC. Zero when
	// absent.
	NotBefore, NotOnOrAfter time.Time

	// encoded is the SAMLResponse as received, without the whitespace it may have been
	// wrapped with.
	encoded string
}

// Encoded returns the base64 SAMLResponse as received (spaces and line breaks removed), the
// SAMLAssertion parameter of STS AssumeRoleWithSAML. Treat it as a secret.
func (a *Assertion) Encoded() string { return a.encoded }

// String describes the assertion without the response: issuer, roles, expiry.
func (a Assertion) String() string {
	var b strings.Builder
	b.WriteString("SAML assertion")
	if a.Issuer != "" {
		fmt.Fprintf(&b, " from %s", strconv.Quote(a.Issuer))
	}
	fmt.Fprintf(&b, " with %d role(s)", len(a.Roles))
	if len(a.Roles) > 0 {
		b.WriteString(" (" + strings.Join(a.roleARNs(), ", ") + ")")
	}
	if a.RoleSessionName != "" {
		fmt.Fprintf(&b, ", session name %s", strconv.Quote(a.RoleSessionName))
	}
	if !a.NotOnOrAfter.IsZero() {
		fmt.Fprintf(&b, ", valid until %s", a.NotOnOrAfter.UTC().Format(time.RFC3339))
	}
	return b.String()
}

// GoString keeps %#v from printing the response.
func (a Assertion) GoString() string { return a.String() }

// LogValue keeps slog handlers, which would otherwise print every field, from logging the
// response.
func (a Assertion) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("issuer", a.Issuer),
		slog.Any("roles", a.roleARNs()),
		slog.String("role_session_name", a.RoleSessionName),
	}
	if a.SessionDuration > 0 {
		attrs = append(attrs, slog.Duration("session_duration", a.SessionDuration))
	}
	if !a.NotOnOrAfter.IsZero() {
		attrs = append(attrs, slog.Time("not_on_or_after", a.NotOnOrAfter))
	}
	return slog.GroupValue(attrs...)
}

func (a Assertion) roleARNs() []string {
	arns := make([]string, len(a.Roles))
	for i, r := range a.Roles {
		arns[i] = r.RoleARN
	}
	return arns
}

// PickRole chooses the role to assume. With roleARN set, it returns that role's pair, which
// must be in the assertion (ErrRoleNotFound otherwise; when one role appears with several
// SAML providers, the first pair wins). With roleARN empty, it returns the only role, or
// ErrChooseRole when there are several: the caller then asks the user, or the user sets the
// role in the profile. Both errors list the roles the assertion offers; unlike Parse's, they
// have no "SAML response:" prefix, so that the caller can name the setting that chose.
func (a *Assertion) PickRole(roleARN string) (Role, error) {
	if len(a.Roles) == 0 {
		return Role{}, failPick(ErrNoRoles, "the assertion offers no role")
	}
	roleARN = strings.TrimSpace(roleARN)
	if roleARN == "" {
		if len(a.Roles) == 1 {
			return a.Roles[0], nil
		}
		return Role{}, failPick(ErrChooseRole, "the assertion offers %d roles, choose one: %s", len(a.Roles), strings.Join(a.roleARNs(), ", "))
	}
	for _, r := range a.Roles {
		if r.RoleARN == roleARN {
			return r, nil
		}
	}
	return Role{}, failPick(ErrRoleNotFound, "role %s is not in the assertion; it offers: %s", bare(roleARN, 200), strings.Join(a.roleARNs(), ", "))
}
