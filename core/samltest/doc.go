// Package samltest runs a local SAML identity provider for the tests of awskeep's SAML
// source (samlassert, the IdP clients in samlidp, the engine), as mototest runs a local AWS.
//
// Start serves, on a free 127.0.0.1 port until the test ends:
//
//   - a generic form login (Form: GET shows a page with a login form and a hidden CSRF token,
//     POST checks the password, then redirects to /sso), with field names configurable to
//     look like ADFS (ADFSForm) or any other form IdP;
//   - /sso: the page an IdP shows after login, an auto-submitting HTML form that posts the
//     SAMLResponse to https://signin.aws.amazon.com/saml, as ADFS, Shibboleth and Okta pages
//     do (crewjam/saml's response form);
//   - a fake of Okta's classic Authentication API (developer.okta.com, "Authentication API"):
//     POST /api/v1/authn, POST /api/v1/authn/factors/{id}/verify for a TOTP factor ("Verify
//     TOTP Factor") and for an Okta Verify push factor ("Verify Push Factor": MFA_CHALLENGE
//     with factorResult WAITING and a "poll" next link, then SUCCESS, or REJECTED or TIMEOUT
//     as Options.Push says), and the AWS application's SAML URL (OktaAppURL) that turns a
//     sessionToken into the same page. PasscodesChecked and PushesSent count what a client
//     asked of the factors, FailedLogins the wrong passwords and passcodes, so that tests
//     can prove a refused code is never sent again;
//   - /broken, a page without a SAMLResponse, and /metadata, the IdP's SAML metadata (for
//     creating an IAM SAML provider, in moto for example).
//
// Assertions are made and signed by crewjam/saml's IdentityProvider (IdP-initiated, as AWS
// federation is) with an RSA key generated once per test binary; Options choose the roles,
// the session attributes, the audience, the validity and the clock, so tests can get
// assertions with no role, several roles, the wrong audience, expired or not yet valid ones,
// and encrypted ones. Response returns an assertion directly, without HTTP; SSOPage writes
// the SSO page for a user from any handler (a test mounts, say, an SPNEGO-protected one with
// Handle).
//
// What the fake does not model: Okta rate limits (a client polling a push too fast is not
// throttled: E0000047 is never answered); SMS, call, email, security question, WebAuthn/U2F,
// Duo and every factor but a TOTP whose passcode is fixed per user and a push whose outcome
// is fixed per user; the push's number challenge (correctAnswer), its resend link (listed,
// not served), its real five-minute expiry (TIMEOUT comes after PushWaits answers, at once)
// and the autoPush and rememberDevice options; the cancel and previous links (listed, not
// served); factor enrollment, password expiry and recovery; the expiry of state and
// session tokens (both are one-time but never time out); the Okta session cookie and its
// redirects (the application URL answers the SAMLResponse page at once); IdP-side MFA in
// the form login; SP-initiated logins (AuthnRequests) and logout. Passwords are compared in
// plain text: these are test accounts.
package samltest
