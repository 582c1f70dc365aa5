// Package spnego logs awskeep in at web servers that use Kerberos: an HTTP client whose
// requests answer "WWW-Authenticate: Negotiate" challenges with a SPNEGO token (RFC 4559,
// RFC 4178) built from the user's existing Kerberos ticket (MIT kinit's FILE: ticket cache)
// or from a keytab. No password is stored or asked for anywhere.
//
// awskeep's SAML source uses it to fetch the SAMLResponse from an identity provider (AD FS,
// Keycloak, Shibboleth) that authenticates with Integrated Windows Authentication: the IdP
// page answers 401 Negotiate, the client gets a service ticket for HTTP/<host> from the KDC
// named in krb5.conf and retries with it.
//
// Kerberos itself is github.com/jcmturner/gokrb5/v8 (pure Go). It reads only FILE: and DIR:
// ticket caches; for KEYRING:, KCM: and MEMORY: caches (the default on Fedora and RHEL)
// Client returns an error that says how to kinit into a file. The client does not check the
// server's mutual-authentication token: the server is authenticated by TLS, so use https.
//
// Errors are classified by the sentinels in errors.go (ErrNoTicket, ErrTicketExpired,
// ErrKDCUnreachable, ErrRejected, ...) with detail in typed errors; their text says what to
// do. Nothing here logs, and no error carries a key, ticket or password.
package spnego
