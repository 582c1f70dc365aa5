package profile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/awskeep/awskeep/core/fastpath"
)

// maxFileSize bounds what Load reads: a config file is a few kilobytes, and
// a path that names something else (a device, a log) should fail, not fill
// memory.
const maxFileSize = 1 << 20

// DefaultPath returns the shared config file's path as the AWS SDKs find it:
// $AWS_CONFIG_FILE, with a leading "~/" expanded from $HOME, else
// $HOME/.aws/config. getenv is os.Getenv outside tests. It fails when
// neither variable gives a path.
func DefaultPath(getenv func(string) string) (string, error) {
	path, err := fastpath.ConfigPath(getenv)
	if err != nil {
		return "", fmt.Errorf("profile: %w", err)
	}
	return path, nil
}

// Load reads the config file at path (at most 1 MiB) and returns profile
// name from it, as Parse does. A missing file is an *Error wrapping
// ErrNotFound.
func Load(path, name string) (*Profile, error) {
	if path == "" {
		return nil, &Error{Msg: "profile: no config file path given"}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, readError(path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, readError(path, err)
	}
	if len(data) > maxFileSize {
		return nil, &Error{File: path, Msg: "larger than 1 MiB: not a config file"}
	}
	return Parse(data, path, name)
}

func readError(path string, err error) *Error {
	if errors.Is(err, fs.ErrNotExist) {
		return &Error{File: path, Msg: "does not exist: create it or set AWS_CONFIG_FILE", Err: ErrNotFound}
	}
	// The path is already in Error's text; keep only the reason.
	reason := err
	var pe *fs.PathError
	if errors.As(err, &pe) {
		reason = pe.Err
	}
	return &Error{File: path, Msg: fmt.Sprintf("cannot read: %v", reason), Err: err}
}
