// Package samlidp logs a user in at a SAML identity provider and returns the base64
// SAMLResponse the IdP would have posted to AWS (https://signin.aws.amazon.com/saml). It is
// the first half of awskeep's SAML source (awskeep_source = saml in an AWS config profile);
// package samlassert reads the response and the engine trades it for credentials with STS
// AssumeRoleWithSAML.
//
// Three providers, chosen by awskeep_saml_provider and made by New:
//
//   - "okta": the Okta classic Authentication API (developer.okta.com, "Authentication
//     API": POST /api/v1/authn, the transaction statuses, "Verify TOTP Factor"), then the
//     AWS app's URL with ?sessionToken=. MFA by a TOTP factor, or an Okta Verify
//     push when the account has no TOTP factor (see Okta).
//   - "form": any IdP whose login is an HTML form (ADFS forms authentication, Shibboleth,
//     Keycloak, SimpleSAMLphp...): the page is parsed as HTML (golang.org/x/net/html, never
//     regular expressions), the login form filled and posted, intermediate auto-submit
//     forms followed. Form's documentation says how the fields are recognised.
//   - "kerberos": SPNEGO (RFC 4559, HTTP Negotiate) with the user's Kerberos ticket cache
//     through package spnego; no password is ever asked.
//
// Each login gets its own cookie jar on top of the caller's http.Client (CA bundle,
// proxy). Only https URLs are used, and plain http on loopback addresses (tests, local
// proxies): a password or an assertion never travels in clear over a network.
//
// Nothing secret leaves through an error: the password, the MFA code, Okta's session and
// state tokens and the SAMLResponse never appear in an error's text, URLs are shown
// without their query, and every text taken from the IdP's answer is scrubbed of those
// values before it is quoted. The package does not log. A refused password or MFA code is
// never retried: IdPs lock accounts after a few failures.
//
// Errors match the sentinels of errors.go with errors.Is and carry detail in the typed
// errors next to them. They are classified (package creds) at this edge: bad settings
// (ErrUnknownProvider, ErrInvalidLogin, an http awskeep_saml_url) are creds.ClassConfig, a
// failure of the Password or MFACode callback creds.ClassPrompt (unless it carries a class
// of its own), everything else creds.ClassIdP.
package samlidp
