package profile

import (
	"bytes"
	"strconv"
	"strings"
	"unicode"
)

// The line locator exists because gopkg.in/ini.v1 does not say on which line
// it found a section or a key, and a message that says "~/.aws/config:12" is
// the difference between a fix and a hunt through a long file. It is used for
// messages only: every value awskeep acts on comes from ini.v1.
//
// To point at the right line it has to split the file into lines the way
// ini.v1 v1.68.0 does with iniOptions: a BOM is skipped, indented lines after
// a key with an empty value are that key's nested values, lines starting with
// # or ; are comments, a value opening with """ or ` runs to its closing
// quote, possibly lines later, and a section that appears twice is one
// section. The fuzz test checks it against ini.v1 on every input it tries.

// lines is where the parts of one ini section are in the file.
type lines struct {
	header int              // first line of the section's header; 0 for the implicit DEFAULT section
	keys   map[string]int   // key (lower case, as ini.v1 stores it) -> line of its last definition
	nested map[string][]int // key -> lines of its nested values, in ini.v1's order
}

// index maps ini section names to where their parts are.
type index map[string]*lines

// locate scans data as ini.v1 would parse it. When ini.v1 would reject the
// data, bad is the line at fault and reason a short description that never
// repeats the line's text (it may hold a secret).
func locate(data []byte) (idx index, bad int, reason string) {
	idx = index{}
	r := lineReader{data: skipBOM(data)}
	current := idx.section(iniDefault, 0)
	count := 1         // ini.v1's counter for "-" keys, reset by every section header
	lastEmpty := false // the last key's value was empty, so indented lines nest under it
	lastKey, lastAuto := "", false
	for !r.eof {
		raw := r.next()
		n := r.n
		if lastEmpty && len(raw) > 0 && (raw[0] == ' ' || raw[0] == '\t') {
			if lastAuto {
				return idx, n, "indented line after a \"-\" key"
			}
			current.nested[lastKey] = append(current.nested[lastKey], n)
			continue
		}
		line := bytes.TrimLeftFunc(raw, unicode.IsSpace)
		if len(line) == 0 || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			end := bytes.LastIndexByte(line, ']')
			if end < 0 {
				return idx, n, "section header without a closing ]"
			}
			if end == 1 {
				return idx, n, "empty section name []"
			}
			current = idx.section(string(line[1:end]), n)
			count, lastEmpty = 1, false
			continue
		}
		name, offset, why := keyName(line)
		if why != "" {
			return idx, n, why
		}
		auto := name == "-"
		if auto {
			name = "#" + strconv.Itoa(count)
			count++
		}
		empty, closed := valueShape(line[offset:], &r)
		if !closed {
			return idx, n, "quoted value (\"\"\" or `) is not closed"
		}
		if name == "" {
			return idx, n, "empty key name"
		}
		name = strings.ToLower(name)
		current.keys[name] = n
		lastKey, lastAuto, lastEmpty = name, auto, empty
	}
	return idx, 0, ""
}

// section returns the entry for name, creating it with its header line.
func (idx index) section(name string, header int) *lines {
	l := idx[name]
	if l == nil {
		l = &lines{keys: map[string]int{}, nested: map[string][]int{}}
		idx[name] = l
	}
	if l.header == 0 {
		l.header = header
	}
	return l
}

// keyName reads the key name the way ini.v1's readKeyName does: quoted with
// """, " or `, or up to the first = or :. offset is where the value starts.
func keyName(line []byte) (name string, offset int, why string) {
	const delimiters = "=:"
	s := string(line)
	var q string
	switch {
	case len(s) > 6 && s[:3] == `"""`:
		q = `"""`
	case s[0] == '"':
		q = `"`
	case s[0] == '`':
		q = "`"
	}
	if q != "" {
		pos := strings.Index(s[len(q):], q)
		if pos < 0 {
			return "", 0, "quoted key name is not closed"
		}
		pos += len(q)
		i := strings.IndexAny(s[pos+len(q):], delimiters)
		if i < 0 {
			return "", 0, "line is neither [section], comment nor key = value"
		}
		return strings.TrimSpace(s[len(q):pos]), pos + len(q) + i + 1, ""
	}
	end := strings.IndexAny(s, delimiters)
	switch {
	case end < 0:
		return "", 0, "line is neither [section], comment nor key = value"
	case end == 0:
		return "", 0, "empty key name before the = sign"
	}
	return strings.TrimSpace(s[:end]), end + 1, ""
}

// valueShape tells whether the value starting at in is empty, as ini.v1's
// readValue decides it, and consumes the further lines of a value quoted with
// """ or ` that does not close on its first line. closed is false when the
// file ends before the closing quote.
func valueShape(in []byte, r *lineReader) (empty, closed bool) {
	v := strings.TrimLeftFunc(string(in), unicode.IsSpace)
	if v == "" {
		return true, true
	}
	var q string
	switch {
	case len(v) > 3 && v[:3] == `"""`:
		q = `"""`
	case v[0] == '`':
		q = "`"
	default:
		return false, true // plain values are trimmed and never empty here
	}
	if pos := strings.LastIndex(v[len(q):], q); pos >= 0 {
		return pos == 0, true
	}
	// The value runs on; its first part is the rest of this line, newline
	// included, so it is not empty.
	for {
		next := r.next()
		if bytes.Contains(next, []byte(q)) {
			return false, true
		}
		if r.eof {
			return false, false
		}
	}
}

// lineReader returns lines as ini.v1's reader does: each up to and including
// its '\n'; the last one, possibly empty, sets eof.
type lineReader struct {
	data []byte
	pos  int
	n    int // number of the line last returned, from 1
	eof  bool
}

func (r *lineReader) next() []byte {
	r.n++
	rest := r.data[r.pos:]
	i := bytes.IndexByte(rest, '\n')
	if i < 0 {
		r.pos, r.eof = len(r.data), true
		return rest
	}
	r.pos += i + 1
	return rest[:i+1]
}

// skipBOM drops leading byte order marks the way ini.v1 does (all of them,
// UTF-8 or UTF-16), so the first line is read as ini.v1 reads it.
func skipBOM(data []byte) []byte {
	for len(data) >= 2 {
		switch {
		case data[0] == 0xFE && data[1] == 0xFF, data[0] == 0xFF && data[1] == 0xFE:
			data = data[2:]
		case len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF:
			data = data[3:]
		default:
			return data
		}
	}
	return data
}
