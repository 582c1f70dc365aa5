// Package refresh keeps a source's temporary credentials fresh in the background, for the
// long-running sinks of awskeep (serve, exec --server, proxy, update --daemon; DESIGN.md,
// "Processes"): after the first fetch, a goroutine fetches new credentials well before the
// current ones expire, so that no request waits for the device and STS after the first.
//
// A Provider wraps any creds.Provider (usually the engine's device-key or SAML source,
// possibly behind the cache). Retrieve answers from memory while the held credentials have
// not expired, and never waits for a refresh in progress while they are still valid. With
// none, or expired ones, it fetches synchronously; concurrent callers, and the background
// loop, share one fetch (single-flight), which runs on a context of its own: one caller
// giving up does not fail the others.
//
// A failed refresh is retried with exponential backoff, except a refused or locked PIN or
// password: each attempt counts toward the device's lockout, so after one the source is
// never called again (DESIGN.md, "Security rules"); the held credentials are served until
// they expire, then the error is.
//
// Close stops the loop, waits for it and for any fetch in flight, and drops the held
// credentials. Like every long-lived object in awskeep, the Provider has one owner, the
// server or command that created it, and that owner closes it.
package refresh
