package credfile

import (
	"errors"
	"strings"
	"testing"
)

// testEntries are the four keys with short values, as entriesOf would give them.
var testEntries = []entry{
	{KeyAccessKeyID, "ASIANEW"},
	{KeySecretAccessKey, "newsecret"},
	{KeySessionToken, "newtoken"},
	{KeyExpires, "2026-11-30T12:00:00Z"},
}

const newKeys = "aws_access_key_id = ASIANEW\naws_secret_access_key = newsecret\naws_session_token = newtoken\nx_security_token_expires = 2026-11-30T12:00:00Z\n"

// beforeSection, oldSection and afterSection are what a user keeps next to awskeep's section: long-term keys,
// comments in every place, blank lines, odd spacing.
const (
	beforeSection = "# ~/.aws/credentials of a careful user\n\n[default]\naws_access_key_id=AKIADEFAULT\n" +
		"aws_secret_access_key   =   defaultsecret ; not a comment for the SDKs\n\n;; legacy\n[legacy]\n" +
		"  aws_access_key_id = AKIALEGACY\n  aws_secret_access_key = legacysecret\n\n"
	oldSection   = "[dev]\naws_access_key_id = ASIAOLD\naws_secret_access_key = oldsecret\naws_session_token = oldtoken\nx_security_token_expires = 2026-01-01T00:00:00Z\n"
	afterSection = "\n# the last one\n[ci]\naws_access_key_id: AKIACI\naws_secret_access_key: cisecret\n# end"
)

func TestEdit(t *testing.T) {
	for _, tc := range []struct {
		name, section, in, want string
	}{
		{
			name: "empty file", section: "dev", in: "",
			want: "[dev]\n" + newKeys,
		},
		{
			name: "append after other sections, with a blank line", section: "dev",
			in:   "# my keys\n[default]\naws_access_key_id = AKIA\n",
			want: "# my keys\n[default]\naws_access_key_id = AKIA\n\n[dev]\n" + newKeys,
		},
		{
			name: "append after a file without a final newline", section: "dev",
			in:   "[default]\nregion = x",
			want: "[default]\nregion = x\n\n[dev]\n" + newKeys,
		},
		{
			name: "append after a trailing blank line adds no second one", section: "dev",
			in:   "[default]\nregion = x\n\n",
			want: "[default]\nregion = x\n\n[dev]\n" + newKeys,
		},
		{
			name: "replace in place, keeping position, unknown keys and comments", section: "dev",
			in: "[a]\nx = 1\n\n[dev]\n# awskeep writes this\naws_access_key_id = OLD\nregion = eu-west-1\n" +
				"aws_secret_access_key=oldsecret\naws_session_token: oldtoken\nx_security_token_expires = 2020-01-01T00:00:00Z\n\n# about b\n[b]\ny = 2\n",
			want: "[a]\nx = 1\n\n[dev]\n# awskeep writes this\naws_access_key_id = ASIANEW\nregion = eu-west-1\n" +
				"aws_secret_access_key = newsecret\naws_session_token = newtoken\nx_security_token_expires = 2026-11-30T12:00:00Z\n\n# about b\n[b]\ny = 2\n",
		},
		{
			name: "missing keys go after the section's last key, before trailing comments", section: "dev",
			in:   "[dev]\naws_access_key_id = OLD\naws_secret_access_key = old\nregion = r\n\n# about b\n[b]\n",
			want: "[dev]\naws_access_key_id = ASIANEW\naws_secret_access_key = newsecret\nregion = r\naws_session_token = newtoken\nx_security_token_expires = 2026-11-30T12:00:00Z\n\n# about b\n[b]\n",
		},
		{
			name: "empty section", section: "dev",
			in:   "[dev]\n[b]\ny = 2\n",
			want: "[dev]\n" + newKeys + "[b]\ny = 2\n",
		},
		{
			name: "section header as the last line without a newline", section: "dev",
			in:   "[a]\n[dev]",
			want: "[a]\n[dev]\n" + strings.TrimSuffix(newKeys, "\n"),
		},
		{
			name: "last section without a final newline keeps none", section: "dev",
			in:   "[a]\n[dev]\naws_access_key_id = OLD\nregion = r",
			want: "[a]\n[dev]\naws_access_key_id = ASIANEW\nregion = r\naws_secret_access_key = newsecret\naws_session_token = newtoken\nx_security_token_expires = 2026-11-30T12:00:00Z",
		},
		{
			name: "CRLF file stays CRLF", section: "dev",
			in:   "[a]\r\nx = 1\r\n[dev]\r\naws_access_key_id = OLD\r\n",
			want: "[a]\r\nx = 1\r\n[dev]\r\n" + strings.ReplaceAll(newKeys, "\n", "\r\n"),
		},
		{
			name: "CRLF file, appended", section: "dev",
			in:   "[a]\r\nx = 1\r\n",
			want: "[a]\r\nx = 1\r\n\r\n[dev]\r\n" + strings.ReplaceAll(newKeys, "\n", "\r\n"),
		},
		{
			name: "each replaced line keeps its own line break", section: "dev",
			in:   "[dev]\r\naws_access_key_id = OLD\naws_secret_access_key = old\r\n",
			want: "[dev]\r\naws_access_key_id = ASIANEW\naws_secret_access_key = newsecret\r\naws_session_token = newtoken\r\nx_security_token_expires = 2026-11-30T12:00:00Z\r\n",
		},
		{
			name: "header with blanks around and inside the brackets is kept as written", section: "dev",
			in:   "  [ dev ]  \naws_access_key_id = OLD\n",
			want: "  [ dev ]  \n" + newKeys,
		},
		{
			name: "names are literal: [profile dev] is another section", section: "dev",
			in:   "[profile dev]\nregion = r\n",
			want: "[profile dev]\nregion = r\n\n[dev]\n" + newKeys,
		},
		{
			name: "names are case-sensitive, keys are not", section: "dev",
			in:   "[Dev]\nx = 1\n[dev]\nAWS_ACCESS_KEY_ID = OLD\n",
			want: "[Dev]\nx = 1\n[dev]\naws_access_key_id = ASIANEW\naws_secret_access_key = newsecret\naws_session_token = newtoken\nx_security_token_expires = 2026-11-30T12:00:00Z\n",
		},
		{
			name: "a duplicated key is written once, at its first place", section: "dev",
			in:   "[dev]\naws_session_token = a\nregion = r\naws_session_token = b\n",
			want: "[dev]\naws_session_token = newtoken\nregion = r\naws_access_key_id = ASIANEW\naws_secret_access_key = newsecret\nx_security_token_expires = 2026-11-30T12:00:00Z\n",
		},
		{
			name: "continuation lines of a replaced key go with it", section: "dev",
			in:   "[dev]\naws_session_token = part1\n  part2\n\n  part3\nregion = r\n",
			want: "[dev]\naws_session_token = newtoken\nregion = r\naws_access_key_id = ASIANEW\naws_secret_access_key = newsecret\nx_security_token_expires = 2026-11-30T12:00:00Z\n",
		},
		{
			name: "an indented key-looking line inside another value is not a key", section: "dev",
			in:   "[dev]\nnote = line1\n  aws_access_key_id = INSIDE\n",
			want: "[dev]\nnote = line1\n  aws_access_key_id = INSIDE\n" + newKeys,
		},
		{
			name: "indented section keeps its indentation", section: "dev",
			in:   "[dev]\n  aws_access_key_id = OLD\n  region = r\n",
			want: "[dev]\n  aws_access_key_id = ASIANEW\n  region = r\n  aws_secret_access_key = newsecret\n  aws_session_token = newtoken\n  x_security_token_expires = 2026-11-30T12:00:00Z\n",
		},
		{
			name: "byte order mark kept", section: "dev",
			in:   "\ufeff[dev]\naws_access_key_id = OLD\n",
			want: "\ufeff[dev]\n" + newKeys,
		},
		{
			name: "comments with ; and # and other lines stay", section: "dev",
			in:   "; top\n[dev]\n; inside\nstray line\naws_access_key_id = OLD\n",
			want: "; top\n[dev]\n; inside\nstray line\n" + newKeys,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := edit([]byte(tc.in), tc.section, testEntries)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("edit:\n got %q\nwant %q", got, tc.want)
			}
			again, err := edit(got, tc.section, testEntries)
			if err != nil || string(again) != string(got) {
				t.Fatalf("a second edit with the same values changes the file: %q, %v", again, err)
			}
		})
	}
}

func TestEditRemovesKeysWithoutValue(t *testing.T) {
	in := "[dev]\naws_access_key_id = OLD\naws_session_token = stale\nx_security_token_expires = 2020-01-01T00:00:00Z\nregion = r\n"
	got, err := edit([]byte(in), "dev", []entry{{KeyAccessKeyID, "AKIA"}, {KeySecretAccessKey, "s"}, {KeySessionToken, ""}, {KeyExpires, ""}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "[dev]\naws_access_key_id = AKIA\nregion = r\naws_secret_access_key = s\n"; string(got) != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestEditRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		line     int
		says     string
	}{
		{"the section twice", "[dev]\nx = 1\n[a]\n[dev]\n", 4, "appears twice (first on line 1)"},
		{"the section twice, with blanks", "[dev]\n[ dev ]\n", 2, "appears twice"},
		{"header without ]", "[a]\n[dev\nx = 1\n", 2, "without a closing ]"},
		{"empty name", "[ ]\n", 1, "empty section name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := edit([]byte(tc.in), "dev", testEntries)
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line != tc.line || !strings.Contains(se.Error(), tc.says) {
				t.Fatalf("edit = %v, want a SyntaxError on line %d saying %q", err, tc.line, tc.says)
			}
		})
	}
	// Another section appearing twice is not ours to judge.
	if _, err := edit([]byte("[a]\n[a]\n"), "dev", testEntries); err != nil {
		t.Fatalf("a duplicated other section is refused: %v", err)
	}
}

func TestSplitLinesJoinsBack(t *testing.T) {
	for _, s := range []string{"", "\n", "a", "a\n", "a\r\n", "a\r", "\r\n\r\n", "a\nb\r\nc", "\r"} {
		if got := string(join(splitLines([]byte(s)))); got != s {
			t.Errorf("join(splitLines(%q)) = %q", s, got)
		}
	}
}

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"dev", "prod-admin", "a.b_c@d+e=f,g:h/i", strings.Repeat("x", 128)} {
		if err := CheckName(ok); err != nil {
			t.Errorf("CheckName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a]", "[a", "a b", "profile x", "a\nb", "a\r", "é", strings.Repeat("x", 129), "a#"} {
		if err := CheckName(bad); !errors.Is(err, ErrInvalidName) {
			t.Errorf("CheckName(%q) = %v, want ErrInvalidName", bad, err)
		}
	}
}

func TestDefaultPath(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"HOME": "/h"}, "/h/.aws/credentials"},
		{map[string]string{"HOME": "/h", "AWS_SHARED_CREDENTIALS_FILE": "/etc/c"}, "/etc/c"},
		{map[string]string{"HOME": "/h", "AWS_SHARED_CREDENTIALS_FILE": "~/x/c"}, "/h/x/c"},
		{map[string]string{"AWS_SHARED_CREDENTIALS_FILE": "rel/c"}, "rel/c"},
	} {
		got, err := DefaultPath(func(k string) string { return tc.env[k] })
		if err != nil || got != tc.want {
			t.Errorf("DefaultPath(%v) = %q, %v; want %q", tc.env, got, err, tc.want)
		}
	}
	for _, env := range []map[string]string{{}, {"AWS_SHARED_CREDENTIALS_FILE": "~/c"}} {
		if got, err := DefaultPath(func(k string) string { return env[k] }); err == nil {
			t.Errorf("DefaultPath(%v) = %q, want an error", env, got)
		}
	}
}
