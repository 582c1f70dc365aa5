// Package credfile writes temporary credentials into a section of the AWS shared
// credentials file (~/.aws/credentials, $AWS_SHARED_CREDENTIALS_FILE): the sink of
// `awskeep update` (DESIGN.md, "The shape of the product"), for tools that read that file
// and cannot run a credential_process.
//
// Update replaces one section and keeps every other byte of the file as it was: other
// profiles, comments, blank lines, CRLF line endings, a missing final newline. That is why
// the file is read by a small line scanner here and not by an ini library: gopkg.in/ini.v1
// (and every library that parses into a tree and serialises it again) rewrites the whole
// file, reflowing spacing and dropping or moving comments, which a user who keeps
// long-term keys or notes in the same file would rightly not forgive.
//
// The file is replaced atomically (a temporary file in the same directory, mode 0600,
// fsync, rename, fsync of the directory), so a reader sees the old file or the new one,
// never half of one; concurrent writers are serialised by an exclusive flock on a lock
// file next to it (PATH.awskeep.lock), so no update is lost. The file holds secrets:
// a new file is created 0600 (its directory 0700 if that is created too), and an existing
// file open to group or others, or owned by another user, is refused rather than written.
//
// UpdateConfig is the same editor for a profile of the shared config file (~/.aws/config,
// sections [profile NAME]), which `awskeep rotate` points at a new key; that file holds no
// secrets, so it may be readable by others, but it must be the user's and writable only by
// them.
//
// The user of this package is the awskeep command (awskeep update, and its --daemon mode
// that refreshes the section before the credentials expire).
package credfile
