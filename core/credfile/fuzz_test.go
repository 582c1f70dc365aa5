package credfile

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzUpdate checks the edit at the heart of Update on any file text and section name:
// it never panics; when it accepts the file, every byte outside the section is unchanged
// (before it and after it; an appended section only adds at the end), the section is
// there once and holds the new values (read by a second, independent reader of the rules
// in edit.go), and a second edit with the same values changes nothing. The file handling
// around it (locking, modes, atomic rename) is tested by the other tests; seeds are in
// testdata/fuzz/FuzzUpdate.
func FuzzUpdate(f *testing.F) {
	for _, seed := range []string{
		"", "\n", "[dev]", "[dev]\n", "[a]\r\nx = 1\r\n[dev]\r\naws_access_key_id = OLD\r\n",
		beforeSection + oldSection + afterSection,
		"[dev]\naws_session_token = a\n  b\n\n  c\nregion = r",
		"\ufeff  [ dev ]  \n\taws_access_key_id: x\n# c\n   y\n[b]",
		"[dev]\naws_session_token = a\n[dev]\n", "[dev\n", "[]\n", "x = 1\n[dev]\n", "[profile dev]\nregion = r\n",
		"[dev]\r", "[dev]\n  [x]\n", "[dev]\nnote = 1\n  aws_access_key_id = INSIDE\n", "[a]]\n[dev]x\n",
	} {
		f.Add([]byte(seed), "dev")
	}
	f.Add([]byte("[a.b@c]\n"), "a.b@c")
	f.Fuzz(func(t *testing.T, in []byte, name string) {
		if CheckName(name) != nil {
			return
		}
		out, err := edit(in, name, testEntries)
		if err != nil {
			return
		}
		// The section, once, with the new values.
		values, count := referenceRead(out, name)
		if count != 1 {
			t.Fatalf("section [%s] appears %d times after the edit:\n%q", name, count, out)
		}
		for _, e := range testEntries {
			if values[e.key] != e.value {
				t.Fatalf("%s = %q after the edit, want %q:\n%q", e.key, values[e.key], e.value, out)
			}
		}
		// Everything else unchanged.
		ls := splitLines(in)
		s, found, _ := findSection(ls, name)
		if found {
			before, after := join(ls[:s.header]), join(ls[s.end:])
			if !bytes.HasPrefix(out, before) || !bytes.HasSuffix(out, after) || len(out) < len(before)+len(after) {
				t.Fatalf("bytes outside the section changed:\n in %q\nout %q", in, out)
			}
			if got, want := referenceOthers(out, name), referenceOthers(in, name); got != want {
				t.Fatalf("other sections changed:\n in %q\nout %q", want, got)
			}
		} else if !bytes.HasPrefix(out, in) {
			t.Fatalf("appending changed the file:\n in %q\nout %q", in, out)
		}
		again, err := edit(out, name, testEntries)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("a second edit changes the file (%v):\n%q\n%q", err, out, again)
		}
	})
}

// referenceRead reads the rules of edit.go a second way: the values of the first
// definition of each key in section name (lower-cased keys), and how many times the
// section appears.
func referenceRead(data []byte, name string) (map[string]string, int) {
	values := map[string]string{}
	count, inside, valueIndent := 0, false, -1
	for i, raw := range strings.Split(string(data), "\n") {
		l := strings.TrimSuffix(raw, "\r")
		if i == 0 {
			l = strings.TrimPrefix(l, "\ufeff")
		}
		rest := strings.TrimLeft(l, " \t")
		indent := len(l) - len(rest)
		switch {
		case strings.TrimSpace(rest) == "":
			continue
		case rest[0] == '[':
			end := strings.LastIndex(rest, "]")
			inside = end > 0 && strings.TrimSpace(rest[1:end]) == name
			if inside {
				count++
			}
			valueIndent = -1
			continue
		case rest[0] == '#' || rest[0] == ';':
			valueIndent = -1
			continue
		case valueIndent >= 0 && indent > valueIndent:
			continue
		}
		k, v, ok := strings.Cut(rest, "=")
		if c := strings.IndexByte(rest, ':'); c >= 0 && (!ok || c < len(k)) {
			k, v, ok = rest[:c], rest[c+1:], true
		}
		if !ok {
			valueIndent = -1
			continue
		}
		valueIndent = indent
		k = strings.ToLower(strings.TrimSpace(k))
		if _, seen := values[k]; inside && !seen {
			values[k] = strings.TrimSpace(v)
		}
	}
	return values, count
}

// referenceOthers returns the text of every line that is not in section name.
func referenceOthers(data []byte, name string) string {
	var b strings.Builder
	inside := false
	for i, l := range strings.SplitAfter(string(data), "\n") {
		rest := strings.TrimLeft(l, " \t")
		if i == 0 {
			rest = strings.TrimLeft(strings.TrimPrefix(l, "\ufeff"), " \t")
		}
		if strings.HasPrefix(rest, "[") {
			end := strings.LastIndex(rest, "]")
			inside = end > 0 && strings.TrimSpace(rest[1:end]) == name
		}
		if !inside {
			b.WriteString(l)
		}
	}
	return b.String()
}
