// Package cache keeps the temporary AWS credentials that awskeep obtains from STS, so that
// repeated credential_process invocations reuse them instead of touching the device and STS
// every time (DESIGN.md, "Cache").
//
// Entries are JSON files in a private directory ($XDG_CACHE_HOME/awskeep, default
// ~/.cache/awskeep, mode 0700), one file per Key (mode 0600), named by a hash of the key so
// that file names reveal nothing. Files are replaced atomically (temporary file, fsync,
// rename), so a reader sees either the old entry or the new one, never half of one.
//
// A cache hit reads one file and takes no lock. On a miss, GetOrFetch takes a per-key file
// lock (flock) and looks again before fetching, so N processes that miss at the same time
// make exactly one STS call and all return the same credentials.
//
// An entry is used only while more than Options.MinRemaining (15 minutes by default) of its
// lifetime is left: credential_process clients run the helper again below that, and must
// then get fresh credentials rather than the same ones. Anything the cache cannot trust
// (unparseable, truncated, another version, written for another key, readable by others,
// owned by someone else, a symbolic link) is treated as absent, reported to the optional
// logger at debug level, and replaced. Secrets are never logged and never put in errors.
//
// The command (awskeep credential-process) is the user of this package; --no-cache skips it.
package cache
