package credfile

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
)

// The scanner below reads only as much of the file's structure as an edit needs: where
// sections start, and inside the one section being written, which lines are keys and which
// lines continue a key's value. It follows botocore's configparser (the AWS CLI's reader),
// which is the stricter of the readers in use:
//
//   - A line whose first non-blank character is '[' is a section header. The name is what
//     lies between the '[' and the last ']' on the line, with surrounding blanks removed
//     ("[ dev ]" is dev, as the Go SDK reads it; botocore keeps the blanks, but the header
//     line is never rewritten, so each reader goes on seeing what it saw). A header
//     without ']' or with an empty name is refused.
//   - A line whose first non-blank character is '#' or ';' is a comment.
//   - Inside a section, a line indented deeper than the key line before it continues that
//     key's value, and so do blank lines followed by such a line; a comment ends a value.
//     Replacing a key replaces its continuation lines too, so nothing of an old token is
//     left to be glued onto the new one.
//   - Any other line with '=' or ':' is a key line; its key is what precedes the first of
//     them, compared without case (configparser lowers option names).
//   - Anything else is kept as it is.
//
// Lines end with "\n" or "\r\n"; each line keeps its own ending, and lines awskeep adds
// take the ending of the file's first line (CRLF files stay CRLF).

// line is one line of the file: its text and its line break ("\n", "\r\n", or "" for a
// last line without one).
type line struct {
	text []byte
	eol  []byte
}

// splitLines cuts data into lines; joining text and eol of all of them gives data back.
func splitLines(data []byte) []line {
	var ls []line
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			ls = append(ls, line{text: data})
			break
		}
		text, eol := data[:i], data[i:i+1]
		if i > 0 && data[i-1] == '\r' {
			text, eol = data[:i-1], data[i-1:i+1]
		}
		ls = append(ls, line{text: text, eol: eol})
		data = data[i+1:]
	}
	return ls
}

// utf8BOM may start the file; it is kept, and ignored when reading the first line.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// content returns the line's text without its leading blanks (and without a byte order
// mark on the first line) and the width of the indentation.
func content(l line, first bool) (rest []byte, indent int) {
	t := l.text
	if first {
		t = bytes.TrimPrefix(t, utf8BOM)
	}
	for indent < len(t) && (t[indent] == ' ' || t[indent] == '\t') {
		indent++
	}
	return t[indent:], indent
}

func isBlank(rest []byte) bool { return len(bytes.TrimSpace(rest)) == 0 }

func isComment(rest []byte) bool { return len(rest) > 0 && (rest[0] == '#' || rest[0] == ';') }

// headerName returns the section name of a header line's content (which starts with '['),
// or a reason it is not a usable header.
func headerName(rest []byte) (string, string) {
	end := bytes.LastIndexByte(rest, ']')
	if end < 0 {
		return "", "section header without a closing ]"
	}
	name := strings.TrimSpace(string(rest[1:end]))
	if name == "" {
		return "", "empty section name"
	}
	return name, ""
}

// keyOf returns the lower-cased key of a key line's content, or false if the line has no
// '=' or ':'.
func keyOf(rest []byte) (string, bool) {
	i := bytes.IndexAny(rest, "=:")
	if i < 0 {
		return "", false
	}
	return strings.ToLower(strings.TrimSpace(string(rest[:i]))), true
}

// span is where one section is in the file, in lines: its header line and the first line
// after it (the next header, or the end of the file).
type span struct{ header, end int }

// findSection returns the span of section name in ls; ok is false if there is none. It
// fails on a malformed header anywhere in the file, and on a second section of the name:
// configparser refuses such a file, and the Go SDK merges the two, so no edit of one of
// them means the same thing to both.
func findSection(ls []line, name string) (s span, ok bool, err *SyntaxError) {
	for i, l := range ls {
		rest, _ := content(l, i == 0)
		if len(rest) == 0 || rest[0] != '[' {
			continue
		}
		n, why := headerName(rest)
		if why != "" {
			return span{}, false, &SyntaxError{Line: i + 1, Reason: why}
		}
		if ok {
			if s.end == len(ls) {
				s.end = i
			}
			if n == name {
				return span{}, false, &SyntaxError{Line: i + 1, Reason: "section [" + name + "] appears twice (first on line " +
					strconv.Itoa(s.header+1) + "): remove one; the AWS CLI refuses such a file too"}
			}
			continue
		}
		if n == name {
			s, ok = span{header: i, end: len(ls)}, true
		}
	}
	return s, ok, nil
}

// entry is one key of the section and its value; an empty value removes the key (a
// session token of credentials that have none, an expiry of credentials that do not
// expire), since a stale one would pair with the new keys.
type entry struct{ key, value string }

// edit returns data with section name holding entries. In the section, each entry's key
// line is replaced in place (the first occurrence; later ones are removed, continuation
// lines with them), and keys not yet there are added after the section's last line that is
// not blank or a comment: only blank lines and comments then follow them, so nothing can
// become a continuation of their values, and comments just before the next header (which
// usually speak of the next section) stay there. Other lines of the section (unknown keys,
// comments) are kept. A missing section is appended at the end. Every byte before the
// section's header and after its last line is unchanged, except that a line break is added
// to a last line without one when a section is appended after it.
func edit(data []byte, name string, entries []entry) ([]byte, error) {
	ls := splitLines(data)
	eol := []byte("\n")
	for _, l := range ls {
		if len(l.eol) > 0 {
			eol = l.eol
			break
		}
	}
	s, found, serr := findSection(ls, name)
	if serr != nil {
		return nil, serr
	}
	var out []line
	if !found {
		out = append(out, ls...)
		if n := len(out); n > 0 {
			if len(out[n-1].eol) == 0 {
				out[n-1].eol = eol
			}
			if rest, _ := content(out[n-1], n == 1); !isBlank(rest) {
				out = append(out, line{eol: eol})
			}
		}
		out = append(out, line{text: []byte("[" + name + "]"), eol: eol})
		for _, e := range entries {
			if e.value != "" {
				out = append(out, line{text: []byte(e.key + " = " + e.value), eol: eol})
			}
		}
		return join(out), nil
	}

	wanted := map[string]string{}
	for _, e := range entries {
		wanted[e.key] = e.value
	}
	written := map[string]bool{}
	out = append(out, ls[:s.header+1]...)
	insertAt := len(out) // after the section's last line that is not blank or a comment
	var indent []byte    // the indentation of that key, for the lines added after it
	valueIndent := -1    // indentation of the key whose value may continue; -1: none
	for i := s.header + 1; i < s.end; i++ {
		rest, ind := content(ls[i], false)
		switch {
		case isBlank(rest):
			out = append(out, ls[i])
			continue
		case isComment(rest):
			valueIndent = -1
			out = append(out, ls[i])
			continue
		case valueIndent >= 0 && ind > valueIndent:
			// A continuation of a kept key: kept with it.
			out = append(out, ls[i])
			insertAt = len(out)
			continue
		}
		key, isKey := keyOf(rest)
		if !isKey {
			// Kept, and the new keys go after it: before it, an indented one would
			// become a continuation of the last new key.
			valueIndent = -1
			out = append(out, ls[i])
			insertAt = len(out)
			continue
		}
		valueIndent = ind
		value, ours := wanted[key]
		if !ours {
			out = append(out, ls[i])
			insertAt, indent = len(out), ls[i].text[:ind]
			continue
		}
		// Our key: skip its continuation lines (and blank lines between them), then write
		// the new line, once, with this line's indentation and the last skipped line break.
		last := i
		for j := i + 1; j < s.end; j++ {
			r, in := content(ls[j], false)
			if isBlank(r) {
				continue
			}
			if isComment(r) || in <= ind {
				break
			}
			last = j
		}
		if !written[key] && value != "" {
			text := append(append([]byte(nil), ls[i].text[:ind]...), key+" = "+value...)
			out = append(out, line{text: text, eol: ls[last].eol})
			insertAt, indent = len(out), ls[i].text[:ind]
		}
		written[key] = true
		i = last
	}
	var added []line
	for _, e := range entries {
		if !written[e.key] && e.value != "" {
			text := append(append([]byte(nil), indent...), e.key+" = "+e.value...)
			added = append(added, line{text: text, eol: eol})
		}
	}
	if len(added) > 0 && len(out[insertAt-1].eol) == 0 {
		// Inserting after a last line without a line break: it gets one, and the last
		// added line goes without, so the file still ends the way it did.
		out[insertAt-1].eol = eol
		added[len(added)-1].eol = nil
	}
	out = slices.Insert(out, insertAt, added...)
	out = append(out, ls[s.end:]...)
	return join(out), nil
}

func join(ls []line) []byte {
	n := 0
	for _, l := range ls {
		n += len(l.text) + len(l.eol)
	}
	b := make([]byte, 0, n)
	for _, l := range ls {
		b = append(append(b, l.text...), l.eol...)
	}
	return b
}
