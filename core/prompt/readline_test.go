//go:build aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris

package prompt

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReadLine(t *testing.T) {
	long := strings.Repeat("x", maxLine)
	tests := []struct {
		name, in, want, rest string
		wantErr              error
	}{
		{name: "newline", in: "abc\nnext", want: "abc", rest: "next"},
		{name: "crlf", in: "abc\r\n", want: "abc"},
		{name: "empty", in: "\n", want: ""},
		{name: "max length", in: long + "\n", want: long},
		{name: "max length crlf", in: long + "\r\n", want: long},
		{name: "too long", in: long + "y\nnext", wantErr: errLineTooLong, rest: "next"},
		{name: "far too long", in: long + long + "\nnext", wantErr: errLineTooLong, rest: "next"},
		{name: "eof", in: "abc", wantErr: io.ErrUnexpectedEOF},
		{name: "eof at start", in: "", wantErr: io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := strings.NewReader(tt.in)
			got, err := readLine(r)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && string(got) != tt.want {
				t.Errorf("line = %q, want %q", got, tt.want)
			}
			if err != nil && got != nil {
				t.Errorf("line = %q on error, want nil", got)
			}
			if rest, _ := io.ReadAll(r); string(rest) != tt.rest {
				t.Errorf("left unread %q, want %q", rest, tt.rest)
			}
		})
	}
}

func TestPrintable(t *testing.T) {
	if got, want := printable("arn:aws:iam::1:role/a\x1b]0;pwned\a\n\xff"), "arn:aws:iam::1:role/a?]0;pwned???"; got != want {
		t.Errorf("printable = %q, want %q", got, want)
	}
}
