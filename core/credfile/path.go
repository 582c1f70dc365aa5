package credfile

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// DefaultPath returns the shared credentials file's path as the AWS SDKs find it:
// $AWS_SHARED_CREDENTIALS_FILE, with a leading "~/" expanded from $HOME, else
// $HOME/.aws/credentials. getenv is os.Getenv outside tests. It fails when neither
// variable gives a path.
func DefaultPath(getenv func(string) string) (string, error) {
	home := getenv("HOME")
	if p := getenv("AWS_SHARED_CREDENTIALS_FILE"); p != "" {
		if p != "~" && !strings.HasPrefix(p, "~/") {
			return p, nil
		}
		if home == "" {
			return "", errors.New("AWS_SHARED_CREDENTIALS_FILE starts with ~ but HOME is not set")
		}
		return filepath.Join(home, strings.TrimPrefix(p, "~")), nil
	}
	if home == "" {
		return "", errors.New("neither AWS_SHARED_CREDENTIALS_FILE nor HOME is set, so there is no credentials file to write")
	}
	return filepath.Join(home, ".aws", "credentials"), nil
}

// maxNameLen bounds a section name; profile names are short.
const maxNameLen = 128

// CheckName returns an error wrapping ErrInvalidName unless name may name a section that
// Update writes: 1 to 128 of A-Z a-z 0-9 _.@+=,:/- (the rule of awskeep export --format
// ini). No brackets, spaces or line breaks: nothing a parser could read as the end of the
// header or as a second section. Names are taken literally: a credentials file has no
// "profile " prefix, so "profile x" is not a name and [profile x] is never matched.
func CheckName(name string) error {
	if len(name) == 0 || len(name) > maxNameLen {
		return fmt.Errorf("%w: want 1 to %d characters", ErrInvalidName, maxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("_.@+=,:/-", c) >= 0) {
			return fmt.Errorf("%w %q: use only A-Z a-z 0-9 and _.@+=,:/-", ErrInvalidName, name)
		}
	}
	return nil
}
