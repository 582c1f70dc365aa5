// Package samlassert reads the SAMLResponse an identity provider (Okta, ADFS, Shibboleth, a
// Kerberos-protected IdP) posts to AWS, and checks it before awskeep hands it to STS
// AssumeRoleWithSAML. The SAML sources in core (samlidp's clients, the engine) use it to list
// the roles a user may take, to pick one, and to fail early, with an error a user can act on,
// when the IdP answered with an error, the assertion is for another application, has expired
// or names no AWS role.
//
// The response is read with the types of github.com/crewjam/saml (saml.Response,
// saml.Assertion) and encoding/xml. What AWS expects of the assertion is described in the IAM
// User Guide, "Configure SAML assertions for the authentication response": the Role attribute
// (RoleAttribute) holds "role ARN,SAML provider ARN" pairs, in either order; RoleSessionName
// and SessionDuration are optional attributes; the audience is AWS sign-in.
//
// # The XML signature is not verified, on purpose
//
// Parse does not check the signature of the response or of the assertion. STS does, against
// the IdP certificate registered in the IAM SAML provider, on every AssumeRoleWithSAML call;
// only STS holds that trust anchor, and a forged or altered assertion gets no credentials
// whatever awskeep thinks of it. Verifying here would need the IdP's certificate as a second,
// locally configured trust anchor that could drift from the one in IAM, and it would protect
// nothing STS does not. So nothing Parse returns is trusted for a security decision: it only
// saves the user a round trip and explains failures (wrong application, expired, no roles)
// that STS reports as a bare InvalidIdentityToken. For the same reason a difference between
// how encoding/xml and STS read an unusual document can only make awskeep's explanation
// wrong, never grant access.
//
// Encrypted assertions (IAM SAML providers with encryption turned on) are not supported:
// only AWS holds the private key, so awskeep could not list their roles or check their times.
//
// # Secrets
//
// A SAML assertion is a bearer credential until it expires: whoever holds it can call
// AssumeRoleWithSAML. Assertion keeps the encoded response for Encoded only; String, GoString
// and LogValue never print it, and no error of this package contains the response, its base64
// or more than a short, quoted field of it (an audience, the IdP's status message).
package samlassert
