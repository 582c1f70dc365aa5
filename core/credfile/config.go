package credfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// Setting is one "key = value" line of a section.
type Setting struct {
	Key, Value string
}

// UpdateConfig sets settings in profile's section of the AWS shared config file at path
// (~/.aws/config, $AWS_CONFIG_FILE), keeping every other byte of the file as it was: the
// line-preserving editor of Update, for the file where profiles are written [profile NAME]
// (and the default profile [default]; see the AWS SDKs and Tools Reference Guide, "Format
// of the config file"). `awskeep rotate` uses it to point a profile at a new key.
//
// Each setting's key line is replaced where it is (with its continuation lines; a later
// duplicate is removed), a setting not yet in the section is added after its last key, and
// a setting with an empty value is removed. Other keys and comments stay. Keys are lower
// case letters, digits and '_'; values must read back as themselves (no line breaks or
// control characters, no surrounding blanks).
//
// The profile must exist: a missing section is an error wrapping ErrNoSection (a profile
// awskeep cannot find is not one to create behind the user's back), and so is the default
// profile written both as [default] and [profile default]. The file is not a secret, so it
// may be readable by others, but it must be the user's and writable only by them
// (ErrInsecureFile otherwise): a file others can write can redirect the profile anyway.
// Symbolic links, the lock, the atomic replacement and the refusal of a malformed or
// duplicated header are Update's.
func UpdateConfig(path, profile string, settings []Setting, optFns ...func(*Options)) error {
	if !supported {
		return fmt.Errorf("config file: %s: %w", runtime.GOOS, ErrUnsupported)
	}
	var o Options
	for _, fn := range optFns {
		fn(&o)
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	entries, err := configEntries(profile, settings)
	if err != nil {
		return err
	}
	if path == "" {
		return errors.New("config file: no path given")
	}
	target, err := resolve(path)
	if err != nil {
		return err
	}
	dir := filepath.Dir(target)
	l, err := lock(target+LockSuffix, o.LockTimeout)
	if err != nil {
		return err
	}
	defer release(l)
	removeLeftovers(dir, filepath.Base(target))

	data, perm, err := readConfig(target)
	if err != nil {
		return err
	}
	section, err := profileSection(splitLines(data), profile)
	if err != nil {
		var se *SyntaxError
		if errors.As(err, &se) {
			se.Path = target
		}
		return err
	}
	out, err := edit(data, section, entries)
	if err != nil {
		var se *SyntaxError
		if errors.As(err, &se) {
			se.Path = target
		}
		return err
	}
	if bytes.Equal(out, data) {
		return nil
	}
	return writeAtomic(dir, target, out, perm)
}

// ConfigSection returns profile's section as UpdateConfig would leave it in a config file
// that holds data, from its header line to the last line before the next section (trailing
// blank lines left out), without writing anything: what `awskeep migrate --dry-run` prints.
// Errors are UpdateConfig's, without a path in a SyntaxError.
func ConfigSection(data []byte, profile string, settings []Setting) ([]byte, error) {
	entries, err := configEntries(profile, settings)
	if err != nil {
		return nil, err
	}
	section, err := profileSection(splitLines(data), profile)
	if err != nil {
		return nil, err
	}
	out, err := edit(data, section, entries)
	if err != nil {
		return nil, err
	}
	ls := splitLines(out)
	sp, ok, serr := findSection(ls, section)
	if serr != nil {
		return nil, serr
	}
	if !ok {
		return nil, fmt.Errorf("config file has no [%s] section: %w", section, ErrNoSection)
	}
	text := bytes.TrimRight(join(ls[sp.header:sp.end]), " \t\r\n")
	return append(text, '\n'), nil
}

// configEntries checks profile's name and settings as UpdateConfig takes them.
func configEntries(profile string, settings []Setting) ([]entry, error) {
	if err := CheckName(profile); err != nil {
		return nil, err
	}
	entries := make([]entry, 0, len(settings))
	for _, s := range settings {
		if !settingKey(s.Key) {
			return nil, fmt.Errorf("%w: setting name %q: use lower-case letters, digits and _", ErrInvalidName, s.Key)
		}
		if !plainValue(s.Value) {
			return nil, fmt.Errorf("config file: the value of %s holds a line break, a control character or surrounding blanks", s.Key)
		}
		entries = append(entries, entry{s.Key, s.Value})
	}
	return entries, nil
}

// settingKey: a config setting's name as awskeep writes it.
func settingKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// profileSection returns the name of the section that holds profile in a config file:
// "profile NAME", or for the default profile "default" or "profile default", whichever
// the file has.
func profileSection(ls []line, profile string) (string, error) {
	candidates := []string{"profile " + profile}
	if profile == "default" {
		candidates = []string{"default", "profile default"}
	}
	found := ""
	for _, c := range candidates {
		_, ok, serr := findSection(ls, c)
		if serr != nil {
			return "", serr
		}
		if !ok {
			continue
		}
		if found != "" {
			return "", &SyntaxError{Reason: "the default profile is written both as [default] and [profile default]: keep one"}
		}
		found = c
	}
	if found == "" {
		return "", fmt.Errorf("config file has no [%s] section: %w", candidates[0], ErrNoSection)
	}
	return found, nil
}

// readConfig reads the config file under the lock and checks it is the user's and
// writable only by them.
func readConfig(path string) ([]byte, fs.FileMode, error) {
	data, meta, err := readRegular(path, maxFileSize, 0o022)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, 0, &fileError{fmt.Sprintf("config file %s does not exist: set AWS_CONFIG_FILE or create the profile first", path), ErrNoSection}
	case errors.Is(err, errSymlink):
		return nil, 0, &fileError{fmt.Sprintf("config file %s became a symbolic link while awskeep was writing it; run again", path), ErrInsecureFile}
	case err != nil:
		return nil, 0, fmt.Errorf("config file %s: read: %w", path, unwrapPath(err))
	case !meta.regular:
		return nil, 0, &fileError{fmt.Sprintf("config file %s is not a regular file", path), ErrInsecureFile}
	case meta.uid != os.Geteuid():
		return nil, 0, &fileError{fmt.Sprintf("config file %s is owned by user %d, not by you (%d): awskeep will not replace it", path, meta.uid, os.Geteuid()), ErrInsecureFile}
	case meta.perm&0o022 != 0:
		return nil, 0, &fileError{fmt.Sprintf("config file %s is writable by others (mode %04o): chmod go-w %s", path, meta.perm, path), ErrInsecureFile}
	case data == nil:
		return nil, 0, fmt.Errorf("config file %s is larger than %d bytes: not a config file", path, maxFileSize)
	}
	return data, meta.perm, nil
}
