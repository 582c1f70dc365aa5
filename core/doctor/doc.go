// Package doctor checks an awskeep setup the way a user's first credential request would
// exercise it, and says for each step what is wrong and how to fix it: the config file and
// profile, the merged settings, the plugin binary (search path, permissions, pinned
// checksum), the device and key, the STS endpoint, the local clock against STS, and the
// credential cache directory. For a SAML profile (awskeep_source = saml) the plugin and
// device checks give way to idp (the IdP's host resolves and answers a HEAD of the app URL),
// password (the IdP password source, through secretsource.Check: a file's owner and mode,
// the awskeep-keyring helper and the item, Conjur's settings and a Conjur login, or a
// terminal for prompt) and kerberos (an unexpired ticket-granting ticket, its principal,
// and a service ticket for the IdP from the realm's KDC). None of them logs in at the IdP.
//
// It is the library behind `awskeep doctor`. Run returns one Result per check, in order; a
// check whose prerequisite failed is skipped with the reason. Nothing here prints: the
// command formats the results. The clock, the HTTP client, the prompter and the
// environment are injected, so tests run every check against real files, real servers and
// fake clocks.
//
// The device check makes exactly one device attempt: a refused PIN is reported, never
// retried, because every failure counts toward the device's lockout. No check prints or
// returns a PIN, a pin-value or a secret: key URIs appear without their secrets, and no IdP
// password, Conjur API key or token is shown (a keyring item is read to learn that it is
// there, then discarded: the helper has no command that only tests for one).
package doctor
