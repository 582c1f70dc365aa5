package migrate

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/awskeep/awskeep/core/credfile"
	"github.com/awskeep/awskeep/core/profile"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// The tools awskeep migrates from, as the base names of their programs.
const (
	PKCS = "aws-pkcs-process-credential"
	TPM  = "aws-tpm-process-credential"
)

// Errors Parse and Map return, wrapped with the detail; callers classify with errors.Is.
var (
	// ErrNotTool: the line does not run one of the two tools.
	ErrNotTool = errors.New("not a credential_process line of aws-pkcs-process-credential or aws-tpm-process-credential")
	// ErrUnknownFlag: a flag (or argument) the tables of docs/migrating.md do not map.
	ErrUnknownFlag = errors.New("flag not known to awskeep migrate")
	// ErrBadValue: a flag's value cannot be mapped.
	ErrBadValue = errors.New("value cannot be mapped")
	// ErrNeedPINFile: the line holds a PIN or key password and no file was given for it.
	ErrNeedPINFile = errors.New("the line holds a PIN or key password")
)

// Flag is one flag of the old line, as Go's flag package reads it ("-name", "--name",
// "=value" or the next word).
type Flag struct {
	Name, Value string
	// HasValue says Value was given (a bare boolean flag has none).
	HasValue bool
}

// Command is a parsed credential_process line of one of the tools.
type Command struct {
	Tool  string // PKCS or TPM
	Flags []Flag
}

// flagKind says how a tool's flag takes its value.
type flagKind int

const (
	stringFlag flagKind = iota
	boolFlag
)

// The flags of each tool, from the tables of docs/migrating.md.
var toolFlags = map[string]map[string]flagKind{
	PKCS: {
		"pkcs-uri": stringFlag, "aws-access-key-id": stringFlag, "aws-arn": stringFlag,
		"assumeRole": boolFlag, "aws-region": stringFlag, "aws-session-name": stringFlag,
		"duration": stringFlag, "version": boolFlag,
	},
	TPM: {
		"tpm-path": stringFlag, "persistentHandle": stringFlag, "credential-file": stringFlag,
		"keyPass": stringFlag, "parentPass": stringFlag, "useEKParent": boolFlag,
		"tpm-session-encrypt-with-name": stringFlag, "pcrs": stringFlag,
		"assumeRole": boolFlag, "aws-arn": stringFlag, "aws-access-key-id": stringFlag,
		"aws-region": stringFlag, "aws-session-name": stringFlag, "duration": stringFlag,
		"timeout": stringFlag, "version": boolFlag,
	},
}

// Parse splits line into words as botocore does (profile.ShellSplit) and reads the flags of
// the tool it runs, recognised by its program's base name. A flag the tool's table does not
// list, an argument that is not a flag and a repeated flag are errors wrapping
// ErrUnknownFlag that name the flag, never its value.
func Parse(line string) (*Command, error) {
	words, ok := profile.ShellSplit(line)
	if !ok {
		return nil, fmt.Errorf("%w: it has an unclosed quote or a trailing backslash", ErrNotTool)
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("%w: it is empty", ErrNotTool)
	}
	tool := path.Base(words[0])
	known, ok := toolFlags[tool]
	if !ok && tool == "awskeep" {
		return nil, fmt.Errorf("%w: it already runs awskeep", ErrNotTool)
	}
	if !ok {
		return nil, fmt.Errorf("%w: it runs %q", ErrNotTool, printable(tool))
	}
	c := &Command{Tool: tool}
	seen := map[string]bool{}
	for i := 1; i < len(words); i++ {
		w := words[i]
		if !strings.HasPrefix(w, "-") || w == "-" || w == "--" {
			return nil, fmt.Errorf("%w: %s takes no arguments, and argument %d is not a flag", ErrUnknownFlag, tool, i)
		}
		name := strings.TrimPrefix(strings.TrimPrefix(w, "-"), "-")
		name, value, hasValue := strings.Cut(name, "=")
		kind, ok := known[name]
		if !ok {
			return nil, fmt.Errorf("%w: %s flag --%s (see docs/migrating.md; remove it or move the profile by hand)", ErrUnknownFlag, tool, printable(name))
		}
		if seen[name] {
			return nil, fmt.Errorf("%w: %s flag --%s is given twice", ErrUnknownFlag, tool, name)
		}
		seen[name] = true
		if kind == stringFlag && !hasValue {
			if i+1 == len(words) {
				return nil, fmt.Errorf("%w: %s flag --%s has no value", ErrBadValue, tool, name)
			}
			i++
			value, hasValue = words[i], true
		}
		c.Flags = append(c.Flags, Flag{Name: name, Value: value, HasValue: hasValue})
	}
	return c, nil
}

// Lookup returns the value of flag name and whether it was given.
func (c *Command) Lookup(name string) (Flag, bool) {
	for _, f := range c.Flags {
		if f.Name == name {
			return f, true
		}
	}
	return Flag{}, false
}

// Options say what Map cannot learn from the line.
type Options struct {
	// Profile is the profile being migrated: credential_process runs awskeep for it, and the
	// new key's name comes from it (object=aws-PROFILE, PROFILE.tss2.pem).
	Profile string
	// PINFile is the absolute path of the file that will hold the PIN or key password found
	// on the line; the new URI gets pin-source=file:PINFile. Without it, a line that holds
	// one is an error wrapping ErrNeedPINFile.
	PINFile string
	// KeyDir is the directory of the TSS2 PEM key file a TPM key is imported into
	// (e.g. ~/.config/awskeep); required for TPM lines.
	KeyDir string
}

// Migration is the awskeep profile that does the old line's job.
type Migration struct {
	Tool string
	// Key is the key URI to import the secret again into, and the profile's awskeep_key.
	// It holds no pin-value.
	Key string
	// PIN is the PIN or key password the line held ("" if none): it goes to Options.PINFile.
	PIN string
	// Settings are the profile's new lines, in the order docs/migrating.md shows them; each
	// has a value.
	Settings []credfile.Setting
}

// Map maps c to an awskeep profile, as the tables of docs/migrating.md say.
func Map(c *Command, o Options) (*Migration, error) {
	if o.Profile == "" {
		return nil, errors.New("migrate: no profile name given")
	}
	if _, ok := c.Lookup("version"); ok {
		return nil, fmt.Errorf("%w: %s flag --version prints the tool's version, not credentials: remove it", ErrUnknownFlag, c.Tool)
	}
	m := &Migration{Tool: c.Tool}
	var key *keyuri.URI
	var err error
	switch c.Tool {
	case PKCS:
		key, m.PIN, err = pkcsKey(c, o)
	case TPM:
		key, m.PIN, err = tpmKey(c, o)
	default:
		return nil, fmt.Errorf("%w: %q", ErrNotTool, printable(c.Tool))
	}
	if err != nil {
		return nil, err
	}
	if m.PIN != "" {
		if o.PINFile == "" {
			return nil, fmt.Errorf("%w (%s), which must not stay in the profile", ErrNeedPINFile, pinWhere(c.Tool))
		}
		key.Query = append(key.Query, keyuri.Attr{Name: keyuri.PINSource, Value: "file:" + o.PINFile})
	}
	m.Key = key.String()
	if _, err := keyuri.Parse(m.Key); err != nil {
		return nil, fmt.Errorf("%w: the new key URI: %v", ErrBadValue, err)
	}

	akid, ok := c.Lookup("aws-access-key-id")
	if !ok || akid.Value == "" {
		return nil, fmt.Errorf("%w: %s has no --aws-access-key-id: add awskeep_access_key_id to the profile by hand", ErrBadValue, c.Tool)
	}
	role, err := roleARN(c)
	if err != nil {
		return nil, err
	}
	procLine := "awskeep credential-process --profile " + quote(o.Profile)
	if f, ok := c.Lookup("timeout"); ok {
		d, err := seconds(f.Value)
		if err != nil {
			return nil, fmt.Errorf("%w: %s flag --timeout: want seconds, e.g. 2", ErrBadValue, c.Tool)
		}
		procLine += " --timeout " + d.String()
	}
	add := func(k, v string) {
		if v != "" {
			m.Settings = append(m.Settings, credfile.Setting{Key: k, Value: v})
		}
	}
	region, _ := c.Lookup("aws-region")
	add("region", region.Value)
	add("credential_process", procLine)
	add("awskeep_key", m.Key)
	add("awskeep_access_key_id", akid.Value)
	add("awskeep_role_arn", role)
	session, _ := c.Lookup("aws-session-name")
	add("role_session_name", session.Value)
	if f, ok := c.Lookup("duration"); ok {
		d, err := seconds(f.Value)
		if err != nil || d%time.Second != 0 {
			return nil, fmt.Errorf("%w: %s flag --duration: want whole seconds, e.g. 3600", ErrBadValue, c.Tool)
		}
		add("duration_seconds", strconv.FormatInt(int64(d/time.Second), 10))
	}
	for _, s := range m.Settings {
		if !plain(s.Value) {
			return nil, fmt.Errorf("%w: the value for %s holds a line break, a control character or surrounding blanks", ErrBadValue, s.Key)
		}
	}
	return m, nil
}

// pinWhere names where the tool's line keeps its secret.
func pinWhere(tool string) string {
	if tool == TPM {
		return "--keyPass"
	}
	return "pin-value= in --pkcs-uri"
}

// roleARN maps --assumeRole and --aws-arn: AssumeRole with the ARN, or GetSessionToken.
func roleARN(c *Command) (string, error) {
	assume := false
	if f, ok := c.Lookup("assumeRole"); ok {
		v := true
		if f.HasValue {
			var err error
			if v, err = strconv.ParseBool(f.Value); err != nil {
				return "", fmt.Errorf("%w: %s flag --assumeRole: want true or false", ErrBadValue, c.Tool)
			}
		}
		assume = v
	}
	arn, hasARN := c.Lookup("aws-arn")
	switch {
	case assume && arn.Value == "":
		return "", fmt.Errorf("%w: %s has --assumeRole=true but no --aws-arn", ErrBadValue, c.Tool)
	case assume:
		return arn.Value, nil
	case hasARN:
		// Whether the tool assumed the role without --assumeRole=true is not written down:
		// ask rather than guess.
		return "", fmt.Errorf("%w: %s has --aws-arn without --assumeRole=true: add --assumeRole=true to the line (AssumeRole) or remove --aws-arn (GetSessionToken)", ErrBadValue, c.Tool)
	}
	return "", nil
}

// pkcsKey maps --pkcs-uri: the same RFC 7512 URI, without slot= (not an RFC 7512
// attribute), naming a new object (the secret is imported again: the old object's
// attributes were not awskeep's), with pin-value taken out.
func pkcsKey(c *Command, o Options) (*keyuri.URI, string, error) {
	f, ok := c.Lookup("pkcs-uri")
	if !ok || f.Value == "" {
		return nil, "", fmt.Errorf("%w: %s has no --pkcs-uri", ErrBadValue, c.Tool)
	}
	s := f.Value
	pathPart, query, hasQuery := strings.Cut(s, "?")
	var kept []string
	scheme, attrs, ok := strings.Cut(pathPart, ":")
	if !ok || !strings.EqualFold(scheme, "pkcs11") {
		return nil, "", fmt.Errorf("%w: %s flag --pkcs-uri is not a pkcs11: URI", ErrBadValue, c.Tool)
	}
	if attrs != "" {
		for _, a := range strings.Split(attrs, ";") {
			if name, _, _ := strings.Cut(a, "="); name == "slot" {
				continue
			}
			kept = append(kept, a)
		}
	}
	s = "pkcs11:" + strings.Join(kept, ";")
	if hasQuery {
		s += "?" + query
	}
	old, err := keyuri.Parse(s)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %s flag --pkcs-uri: %v", ErrBadValue, c.Tool, err)
	}
	label := "aws-" + o.Profile
	if v, _ := old.PathAttr("object"); v == label {
		label += "-migrated"
	}
	key := &keyuri.URI{Scheme: "pkcs11"}
	for _, a := range old.Path {
		if a.Name != "object" && a.Name != "id" {
			key.Path = append(key.Path, a)
		}
	}
	key.Path = append(key.Path, keyuri.Attr{Name: "object", Value: label})
	pin, _ := old.QueryAttr(keyuri.PINValue)
	for _, a := range old.Query {
		if a.Name == keyuri.PINValue || pin != "" && a.Name == keyuri.PINSource {
			continue
		}
		key.Query = append(key.Query, a)
	}
	return key, pin, nil
}

// tpmKey maps the TPM tool's flags to a TSS2 PEM key file in o.KeyDir (the secret is
// imported again under awskeep's parent, so the old handle or credential file is not used).
func tpmKey(c *Command, o Options) (*keyuri.URI, string, error) {
	if o.KeyDir == "" {
		return nil, "", errors.New("migrate: no directory for the TPM key file given")
	}
	key := &keyuri.URI{Scheme: "tpm", Path: []keyuri.Attr{{Name: "file", Value: strings.TrimSuffix(o.KeyDir, "/") + "/" + o.Profile + ".tss2.pem"}}}
	if f, ok := c.Lookup("tpm-path"); ok && f.Value != "" {
		dev := f.Value
		switch {
		case strings.HasPrefix(dev, "/"):
		case strings.Contains(dev, ":") && !strings.Contains(dev, "/"):
			dev = "tcp://" + dev // a simulator's host:port
		default:
			return nil, "", fmt.Errorf("%w: %s flag --tpm-path: want a device path or a simulator's host:port", ErrBadValue, c.Tool)
		}
		key.Query = append(key.Query, keyuri.Attr{Name: "device", Value: dev})
	}
	if f, ok := c.Lookup("pcrs"); ok && f.Value != "" {
		for _, n := range strings.Split(f.Value, ",") {
			if v, err := strconv.Atoi(n); err != nil || v < 0 || v > 23 || strings.HasPrefix(n, "+") {
				return nil, "", fmt.Errorf("%w: %s flag --pcrs: want PCR numbers 0 to 23, e.g. 23 or 7,23", ErrBadValue, c.Tool)
			}
		}
		key.Query = append(key.Query, keyuri.Attr{Name: "pcrs", Value: "sha256:" + f.Value})
	}
	pass, _ := c.Lookup("keyPass")
	return key, pass.Value, nil
}

// seconds reads a number of seconds, or a Go duration.
func seconds(s string) (time.Duration, error) {
	if n, err := strconv.ParseUint(s, 10, 31); err == nil && n > 0 {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, errors.New("not a positive number of seconds")
	}
	return d, nil
}

// quote quotes a profile name for the credential_process line where the shell would split it.
func quote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\r\n'\"\\$`;&|<>*?[]#~(){}!") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// plain: a value the config file reads back as itself.
func plain(v string) bool {
	if v != strings.TrimSpace(v) {
		return false
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// printable shortens and cleans a name for an error message.
func printable(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}
