package profile

import (
	"errors"
	"fmt"
	"strings"

	"gopkg.in/ini.v1"
)

// iniDefault is the section ini.v1 puts keys in that come before any header.
const iniDefault = "DEFAULT" // ini.DefaultSection, which is a variable

// iniOptions make ini.v1 read the file as botocore (the AWS CLI) does.
var iniOptions = ini.LoadOptions{
	// botocore has no inline comments, and key URIs contain ';'
	// (pkcs11:token=aws;object=prod).
	IgnoreInlineComment: true,
	// [services NAME] holds "sts =" followed by indented "endpoint_url = URL".
	AllowNestedValues: true,
	// Section (profile) names are case-sensitive, as in botocore...
	Insensitive: false,
	// ...but botocore's configparser lowercases keys: "Region" is region.
	InsensitiveKeys: true,
	// botocore keeps quotes as part of the value and has no backslash
	// continuation (a value may end in a Windows path's '\').
	PreserveSurroundedQuote: true,
	IgnoreContinuation:      true,
}

// maxNames bounds the profile names listed in a not-found message.
const maxNames = 20

// Parse returns profile name from the config file contents data; path is
// used in messages and Where. A profile or file that does not exist is an
// *Error wrapping ErrNotFound; an unreadable file, an unknown awskeep_*
// setting or a bad value is an *Error with the line to fix.
func Parse(data []byte, path, name string) (*Profile, error) {
	f, err := loadINI(data)
	if err != nil {
		_, line, reason := locate(data)
		if reason == "" {
			reason = "cannot parse it as an ini file"
		}
		// ini.v1's own message repeats the offending line, which may hold a
		// pin-value; the locator's reason does not.
		return nil, &Error{File: path, Line: line, Msg: "not a valid config file: " + reason}
	}
	idx, _, _ := locate(data)
	sec := findProfile(f, name)
	if sec == nil {
		return nil, notFound(f, idx, path, name)
	}
	where := idx[sec.Name()]
	if where == nil {
		where = &lines{} // the locator disagrees with ini.v1: no line numbers, no panic
	}
	p := &Profile{
		Name:    name,
		File:    path,
		Source:  "device",
		section: sec.Name(),
		header:  where.header,
		lines:   map[string]int{},
	}
	services := ""
	for _, k := range sec.Keys() {
		v := strings.TrimSpace(k.Value())
		if v == "" {
			continue
		}
		line := where.keys[k.Name()]
		p.lines[k.Name()] = line
		if err := p.set(k.Name(), v, line); err != nil {
			return nil, err
		}
		if k.Name() == "services" {
			services = v
		}
	}
	if services != "" {
		url, err := p.stsEndpoint(f, idx, services)
		if err != nil {
			return nil, err
		}
		p.STSEndpointURL = url
	}
	return p, nil
}

// Names returns the names of the profiles in the config file contents data,
// each once, in the order they first appear; nil when data is not a valid
// config file. Commands use it for "did you mean" and doctor.
func Names(data []byte) []string {
	f, err := loadINI(data)
	if err != nil {
		return nil
	}
	return names(f)
}

func names(f *ini.File) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range f.Sections() {
		if n, ok := profileName(s.Name()); ok && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// loadINI parses data with iniOptions. A panic in the parser is returned as
// an error: a malformed file must not crash the credential process.
func loadINI(data []byte) (f *ini.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, errors.New("ini parser panicked")
		}
	}()
	return ini.LoadSources(iniOptions, data)
}

// findProfile returns the section that defines profile name: [default]
// before [profile default], and the last of several sections that name the
// same profile ([profile a] and [profile  a ]), as botocore's dict keeps the
// last.
func findProfile(f *ini.File, name string) *ini.Section {
	var found *ini.Section
	for _, s := range f.Sections() {
		if name == "default" && s.Name() == "default" {
			return s
		}
		if n, ok := profileName(s.Name()); ok && n == name {
			found = s
		}
	}
	return found
}

// notFound explains a missing profile, pointing at a bare [name] section,
// the usual mistake when a profile is copied from ~/.aws/credentials.
func notFound(f *ini.File, idx index, path, name string) *Error {
	if l := idx[name]; l != nil && l.header > 0 && name != "" {
		n := printable(name)
		return &Error{File: path, Line: l.header, Err: ErrNotFound,
			Msg: fmt.Sprintf("no profile %q: found [%s]; in the config file a profile is written [profile %s]", name, n, n)}
	}
	all := names(f)
	var list string
	switch {
	case len(all) == 0:
		list = "no profiles in this file"
	case len(all) > maxNames:
		list = "profiles here: " + joinPrintable(all[:maxNames]) + fmt.Sprintf(" and %d more", len(all)-maxNames)
	default:
		list = "profiles here: " + joinPrintable(all)
	}
	return &Error{File: path, Err: ErrNotFound, Msg: fmt.Sprintf("no profile %q (%s)", name, list)}
}

func joinPrintable(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = printable(n)
	}
	return strings.Join(out, ", ")
}

// stsEndpoint returns endpoint_url from the sts entry of [services name]:
//
//	[services name]
//	sts =
//	  endpoint_url = URL
//
// The last section and the last endpoint_url win, as in botocore.
func (p *Profile) stsEndpoint(f *ini.File, idx index, name string) (string, error) {
	var sec *ini.Section
	for _, s := range f.Sections() {
		if n, ok := servicesName(s.Name()); ok && n == name {
			sec = s
		}
	}
	if sec == nil {
		return "", p.errorf(p.lines["services"], "services", "services %s in [%s]: there is no [services %s] section in this file",
			quoteShort(name), printable(p.section), printable(name))
	}
	var sts *ini.Key
	for _, k := range sec.Keys() {
		if k.Name() == "sts" {
			sts = k
		}
	}
	if sts == nil {
		return "", nil
	}
	where := idx[sec.Name()]
	if where == nil {
		where = &lines{}
	}
	stsLine := where.keys["sts"]
	if strings.TrimSpace(sts.Value()) != "" {
		return "", p.errorf(stsLine, "services", "sts in [%s]: leave it empty and put indented lines such as \"  endpoint_url = URL\" under it",
			printable(sec.Name()))
	}
	nested := sts.NestedValues()
	nestedLines := where.nested["sts"]
	url := ""
	for i, v := range nested {
		line := stsLine
		if len(nestedLines) == len(nested) {
			line = nestedLines[i]
		}
		v = strings.TrimSpace(v)
		if v == "" || v[0] == '#' || v[0] == ';' {
			continue // botocore skips blank and comment lines here
		}
		k, val, ok := strings.Cut(v, "=")
		if !ok {
			return "", p.errorf(line, "services", "sts in [%s]: an indented line must read setting = value",
				printable(sec.Name()))
		}
		if strings.TrimSpace(k) == "endpoint_url" {
			url = strings.TrimSpace(val)
		}
	}
	return url, nil
}
