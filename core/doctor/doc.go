// Package doctor checks an awskeep setup the way a user's first credential request would
// exercise it, and says for each step what is wrong and how to fix it: the config file and
// profile, the merged settings, the plugin binary (search path, permissions, pinned
// checksum), the device and key, the STS endpoint, the local clock against STS, and the
// credential cache directory.
//
// It is the library behind `awskeep doctor`. Run returns one Result per check, in order; a
// check whose prerequisite failed is skipped with the reason. Nothing here prints: the
// command formats the results. The clock, the HTTP client, the prompter and the
// environment are injected, so tests run every check against real files, real servers and
// fake clocks.
//
// The device check makes exactly one device attempt: a refused PIN is reported, never
// retried, because every failure counts toward the device's lockout. No check prints or
// returns a PIN, a pin-value or a secret: key URIs appear without their secrets.
package doctor
