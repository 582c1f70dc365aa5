package samlassert

import "errors"

// Sentinel errors. Every error Parse and PickRole return matches exactly one of them with
// errors.Is; its text says what was found and what to do.
var (
	// ErrMalformed: the input is not a base64 SAML 2.0 Response that can be read (not base64,
	// not XML, not a samlp:Response, several assertions, an attribute of the wrong form).
	ErrMalformed = errors.New("malformed SAML response")

	// ErrIdPStatus: the IdP answered with a status other than Success (saml-core §3.2.2.2);
	// the error text carries its status codes and message.
	ErrIdPStatus = errors.New("the IdP refused the login")

	// ErrEncrypted: the response carries only a saml:EncryptedAssertion, which only AWS can
	// decrypt (see the package documentation).
	ErrEncrypted = errors.New("encrypted SAML assertions are not supported")

	// ErrExpired: the assertion's NotOnOrAfter (of its Conditions or of its bearer
	// SubjectConfirmationData) is past, beyond ClockSkew.
	ErrExpired = errors.New("SAML assertion expired")

	// ErrNotYetValid: the assertion's NotBefore is in the future, beyond ClockSkew.
	ErrNotYetValid = errors.New("SAML assertion not yet valid")

	// ErrNotForAWS: the assertion's audience is not AWS sign-in (see IsAWSAudience): the
	// IdP application is not the AWS one.
	ErrNotForAWS = errors.New("SAML assertion is not for AWS")

	// ErrNoRoles: the assertion has no well-formed "role ARN,SAML provider ARN" value in
	// its Role attribute.
	ErrNoRoles = errors.New("SAML assertion grants no AWS role")

	// ErrChooseRole: PickRole was given no role ARN and the assertion offers several.
	ErrChooseRole = errors.New("the SAML assertion offers several roles")

	// ErrRoleNotFound: PickRole was given a role ARN the assertion does not offer.
	ErrRoleNotFound = errors.New("role not in the SAML assertion")
)
