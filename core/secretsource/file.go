package secretsource

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
)

// fileSource reads the first line of a file, under the rules DESIGN.md sets for PIN files:
// a regular file (not a pipe or device another process could feed), that belongs to the
// user running awskeep and that no one else may read or write (mode 0600 or stricter).
// Symbolic links are followed (container and Kubernetes secrets are links); the rules
// apply to the file they lead to.
type fileSource struct {
	path string
	opts Options
}

func (s *fileSource) String() string       { return KindFile + ":" + s.path }
func (s *fileSource) GoString() string     { return goString(s) }
func (s *fileSource) LogValue() slog.Value { return logValue(s) }

// open opens the file and checks it (openSecretFile), with the errors Secret returns.
func (s *fileSource) open(ctx context.Context) (*os.File, error) {
	src := s.String()
	if err := ctx.Err(); err != nil {
		return nil, newError(src, nil, err, "read %s", s.path)
	}
	f, err := openSecretFile(s.path)
	if err != nil {
		var e *Error
		switch {
		case errors.As(err, &e):
			e.Source = src
			return nil, e
		case errors.Is(err, fs.ErrNotExist):
			return nil, newError(src, ErrNotFound, nil, "%s does not exist", s.path)
		default:
			return nil, newError(src, nil, unwrapPath(err), "cannot open %s", s.path)
		}
	}
	return f, nil
}

// Secret returns the file's first line without its line end ("\n" or "\r\n").
func (s *fileSource) Secret(ctx context.Context) (string, error) {
	src := s.String()
	f, err := s.open(ctx)
	if err != nil {
		return "", err
	}
	defer f.Close()
	line, err := firstLine(f, maxSecret)
	defer clear(line)
	switch {
	case errors.Is(err, errLineTooLong):
		return "", newError(src, nil, nil, "the first line of %s is longer than %d KiB: is it the right file?", s.path, maxSecret>>10)
	case err != nil:
		return "", newError(src, nil, unwrapPath(err), "read %s", s.path)
	case len(line) == 0:
		return "", newError(src, ErrEmpty, nil, "the first line of %s is empty", s.path)
	}
	return string(line), nil
}

var errLineTooLong = errors.New("line too long")

// firstLine reads up to the first "\n" (at most max bytes before it) and returns the
// line without "\n" or "\r\n". Nothing after the line is read.
func firstLine(r io.Reader, max int) ([]byte, error) {
	buf := make([]byte, 0, 512)
	chunk := make([]byte, 512)
	defer clear(chunk)
	for {
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf = buf[:i]
			break
		}
		if len(buf) > max+1 {
			clear(buf)
			return nil, errLineTooLong
		}
		n, err := r.Read(chunk)
		if len(buf)+n > cap(buf) {
			// Grow by hand so the old array, which holds part of the secret, is cleared.
			grown := make([]byte, len(buf), 2*cap(buf)+n)
			copy(grown, buf)
			clear(buf[:cap(buf)])
			buf = grown
		}
		buf = append(buf, chunk[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			clear(buf)
			return nil, err
		}
	}
	buf = bytes.TrimSuffix(buf, []byte("\r"))
	if len(buf) > max {
		clear(buf)
		return nil, errLineTooLong
	}
	return buf, nil
}

// unwrapPath drops the *fs.PathError around err: messages name the path already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
