package credfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/awskeep/awskeep/core/creds"
)

// The keys Update writes. KeyExpires is the convention of saml2aws (gimme-aws-creds
// writes a similar key): SDKs ignore it, people and scripts read it.
const (
	KeyAccessKeyID     = "aws_access_key_id"
	KeySecretAccessKey = "aws_secret_access_key"
	KeySessionToken    = "aws_session_token"
	KeyExpires         = "x_security_token_expires"
)

// DefaultLockTimeout bounds how long Update waits for another writer of the same file.
// Writers hold the lock for a read and a write of a small file: milliseconds.
const DefaultLockTimeout = 10 * time.Second

// LockSuffix is appended to the credentials file's path to name its lock file, which is
// left in place (removing a lock file races with its next user).
const LockSuffix = ".awskeep.lock"

// maxFileSize bounds what Update reads: a credentials file is a few kilobytes, and a path
// that names something else should fail, not fill memory.
const maxFileSize = 1 << 20

// Options configure Update. The zero value of each field selects its default.
type Options struct {
	// LockTimeout bounds the wait for another writer's lock on the file; zero or negative
	// selects DefaultLockTimeout.
	LockTimeout time.Duration
	// Now is the clock the credentials' expiry is checked against (expired credentials
	// are not written); default time.Now.
	Now func() time.Time
}

// Update replaces (or appends) section name in the shared credentials file at path with c,
// keeping every other byte of the file as it was.
//
// In the section, the lines of aws_access_key_id, aws_secret_access_key, aws_session_token
// and x_security_token_expires (KeyExpires, RFC 3339 in UTC) are replaced where they are,
// with the line breaks that follow them; a later duplicate of one of them is removed, and a
// key that c has no value for (a session token, an expiry) is removed so that no stale
// value pairs with the new keys. Other keys of the section (region, output, anything) and
// comments inside it are kept: the section is the user's, awskeep only owns its four keys.
// Keys not yet there are added after the section's last line that is not blank or a
// comment (so comments just before the next section stay with it). A missing section is
// appended at the end of the file, after a blank line. A file in which section name
// appears more than once (configparser, behind the AWS CLI, refuses it; the Go SDK merges
// the two), or with a malformed section header, is refused with a *SyntaxError: which of
// two copies to replace is the user's call. Section names are matched literally, blanks
// inside the brackets aside: [profile x] is not section x.
//
// The file is created with mode 0600 if absent, and its directory with 0700 if that is
// absent too. An existing file keeps its mode, which must not give group or others any
// access; a file that does, or that another user owns, or that is not a regular file, is
// refused (ErrInsecureFile), never widened nor silently narrowed. When path is a symbolic
// link, the file it points to is replaced and the link kept (dotfile managers link
// ~/.aws/credentials into a repository); a link to nothing is refused.
//
// The write is atomic (a temporary file in the file's directory, fsync, rename, fsync of
// the directory) and made under an exclusive flock of path+LockSuffix (of the link's
// target for a link), waited for up to
// Options.LockTimeout: concurrent Updates of different sections all land, and readers see
// the old file or the new one. Update does not write when the file already holds exactly
// the new text.
func Update(path, name string, c creds.Credentials, optFns ...func(*Options)) error {
	if !supported {
		return fmt.Errorf("credentials file: %s: %w", runtime.GOOS, ErrUnsupported)
	}
	var o Options
	for _, fn := range optFns {
		fn(&o)
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := CheckName(name); err != nil {
		return err
	}
	entries, err := entriesOf(c, o.Now())
	if err != nil {
		return err
	}
	if path == "" {
		return errors.New("credentials file: no path given")
	}
	target, err := resolve(path)
	if err != nil {
		return err
	}
	dir := filepath.Dir(target)
	if err := ensureDir(dir); err != nil {
		return err
	}
	l, err := lock(target+LockSuffix, o.LockTimeout)
	if err != nil {
		return err
	}
	defer release(l)
	removeLeftovers(dir, filepath.Base(target))

	data, perm, exists, err := readFile(target)
	if err != nil {
		return err
	}
	out, err := edit(data, name, entries)
	if err != nil {
		var se *SyntaxError
		if errors.As(err, &se) {
			se.Path = target
		}
		return err
	}
	if exists && bytes.Equal(out, data) {
		return nil
	}
	return writeAtomic(dir, target, out, perm)
}

// entriesOf returns the four keys' values for c, checked: an ini value has no escapes, so a
// line break would end it and could start a key or a section of its own.
func entriesOf(c creds.Credentials, now time.Time) ([]entry, error) {
	if !c.Complete() {
		return nil, fmt.Errorf("%w: no access key id or secret access key", ErrInvalidCredentials)
	}
	if !c.Expiration.IsZero() && !c.Expiration.After(now) {
		return nil, fmt.Errorf("%w: they expired at %s", ErrInvalidCredentials, c.Expiration.UTC().Format(time.RFC3339))
	}
	var expires string
	if !c.Expiration.IsZero() {
		expires = c.Expiration.UTC().Format(time.RFC3339)
	}
	entries := []entry{
		{KeyAccessKeyID, c.AccessKeyID},
		{KeySecretAccessKey, c.SecretAccessKey},
		{KeySessionToken, c.SessionToken},
		{KeyExpires, expires},
	}
	for _, e := range entries {
		if !plainValue(e.value) {
			// The value is a secret: name the key only.
			return nil, fmt.Errorf("%w: %s holds a line break, a control character or surrounding blanks", ErrInvalidCredentials, e.key)
		}
	}
	return entries, nil
}

// plainValue reports whether v reads back from an ini line as itself.
func plainValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] == 0x7f {
			return false
		}
	}
	return strings.TrimSpace(v) == v
}

// fileError is a refusal of the file: its text says what to do, Unwrap says which.
type fileError struct {
	msg string
	err error
}

func (e *fileError) Error() string { return e.msg }
func (e *fileError) Unwrap() error { return e.err }

// resolve returns the file Update replaces: path itself, or the file a symbolic link at
// path points to (renaming over the link would replace the link with a plain file).
func resolve(path string) (string, error) {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return path, nil
	case err != nil:
		return "", fmt.Errorf("credentials file %s: %w", path, unwrapPath(err))
	case fi.Mode()&fs.ModeSymlink == 0:
		return path, nil
	}
	target, err := filepath.EvalSymlinks(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", &fileError{fmt.Sprintf("credentials file %s is a symbolic link to a file that does not exist: create that file (touch it, chmod 600) or remove the link", path), fs.ErrNotExist}
	}
	if err != nil {
		return "", fmt.Errorf("credentials file %s: resolve symbolic link: %w", path, unwrapPath(err))
	}
	return target, nil
}

// ensureDir creates dir (mode 0700, and its missing parents) if it does not exist.
func ensureDir(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("credentials file directory %s is not a directory", dir)
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("credentials file directory %s: %w", dir, unwrapPath(err))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("credentials file: create directory %s: %w", dir, unwrapPath(err))
	}
	return nil
}

// readFile reads the file under the lock. A missing file reads as empty, mode 0600. The
// checks use the open descriptor, so they describe the file actually read.
func readFile(path string) (data []byte, perm fs.FileMode, exists bool, err error) {
	data, meta, err := readRegular(path, maxFileSize, 0o077)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, 0o600, false, nil
	case errors.Is(err, errSymlink):
		return nil, 0, false, &fileError{fmt.Sprintf("credentials file %s became a symbolic link while awskeep was writing it; run again", path), ErrInsecureFile}
	case err != nil:
		return nil, 0, false, fmt.Errorf("credentials file %s: read: %w", path, unwrapPath(err))
	case !meta.regular:
		return nil, 0, false, &fileError{fmt.Sprintf("credentials file %s is not a regular file", path), ErrInsecureFile}
	case meta.uid != os.Geteuid():
		return nil, 0, false, &fileError{fmt.Sprintf("credentials file %s is owned by user %d, not by you (%d): awskeep will not replace it", path, meta.uid, os.Geteuid()), ErrInsecureFile}
	case meta.perm&0o044 != 0:
		return nil, 0, false, &fileError{fmt.Sprintf("credentials file %s is readable by others (mode %04o): chmod 600 %s", path, meta.perm, path), ErrInsecureFile}
	case meta.perm&0o077 != 0:
		return nil, 0, false, &fileError{fmt.Sprintf("credentials file %s is writable by others (mode %04o): chmod 600 %s", path, meta.perm, path), ErrInsecureFile}
	case data == nil:
		return nil, 0, false, fmt.Errorf("credentials file %s is larger than %d bytes: not a credentials file", path, maxFileSize)
	}
	return data, meta.perm, true, nil
}

// tmpPrefix and tmpSuffix frame the temporary files of file base.
func tmpPrefix(base string) string { return "." + base + ".awskeep-" }

const tmpSuffix = ".tmp"

// writeAtomic replaces path with data: a temporary file in the same directory (so rename
// cannot cross file systems), created 0600 and then given perm, synced, renamed over path,
// and the directory synced so the rename survives a crash.
func writeAtomic(dir, path string, data []byte, perm fs.FileMode) (err error) {
	f, err := os.CreateTemp(dir, tmpPrefix(filepath.Base(path))+"*"+tmpSuffix)
	if err != nil {
		return fmt.Errorf("credentials file %s: create temporary file: %w", path, unwrapPath(err))
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	// CreateTemp's mode is 0600 today; explicit, because the file holds secrets and perm
	// may be stricter.
	if err := f.Chmod(perm); err != nil {
		return fmt.Errorf("credentials file %s: chmod: %w", path, unwrapPath(err))
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("credentials file %s: write: %w", path, unwrapPath(err))
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("credentials file %s: sync: %w", path, unwrapPath(err))
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("credentials file %s: close: %w", path, unwrapPath(err))
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("credentials file %s: rename: %w", path, unwrapPath(err))
	}
	if d, err := os.Open(dir); err == nil {
		// Durability only: the new file is in place and complete if this fails.
		d.Sync()
		d.Close()
	}
	return nil
}

// removeLeftovers removes temporary files of base that a killed writer left. Call it only
// under the lock: then no writer is between creating one and renaming it.
func removeLeftovers(dir, base string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := tmpPrefix(base)
	for _, e := range ents {
		if n := e.Name(); strings.HasPrefix(n, prefix) && strings.HasSuffix(n, tmpSuffix) && e.Type().IsRegular() {
			os.Remove(filepath.Join(dir, n))
		}
	}
}

// unwrapPath drops an *fs.PathError's operation and path, which the messages here already
// say, keeping the reason.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
