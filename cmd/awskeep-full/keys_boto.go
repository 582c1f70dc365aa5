package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/awskeep/awskeep/core/pin"
	"github.com/awskeep/awskeep/core/prompt"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// keysFromBotoPatchInput is what `awskeep keys from-boto-patch` takes. The credential
// string itself comes from standard input only: it holds the password.
type keysFromBotoPatchInput struct {
	pinFile string
	force   bool
}

// maxBotoInput bounds what is read from standard input: one short line is expected.
const maxBotoInput = 4096

// newKeysFromBotoPatchCommand moves a YubiHSM 2 key from the boto patch (trebortech/tt_tools
// boto/boto_patch.py) to awskeep. That patch keeps the string
// hsm|ip:port|authkeyid|password|hmackeyid in place of aws_secret_access_key, so the
// password of the authentication key sits in ~/.aws/credentials. This command reads that
// string from standard input, writes the password to a 0600 pin-source file, and prints
// the equivalent key URI:
//
//	yubihsm:object-id=0x0010?connector=http://127.0.0.1:12345&auth-key-id=1&pin-source=file:PATH
//
// The HMAC key on the device already holds "AWS4"+secret (the patch asks it for kDate, as
// awskeep does), so nothing is imported and the device is not contacted: check the result
// with `awskeep keys describe --key URI`, then remove the string from ~/.aws/credentials.
//
// The patch builds its connector URL as http://ip:port/api, which yubihsm-connector does
// not serve (its endpoint is /connector/api); the URI carries the connector's base URL,
// http://ip:port, and the plugin adds the path.
//
// The pin file defaults to $XDG_CONFIG_HOME/awskeep/yubihsm-HOST-PORT-auth-N.pw (default
// ~/.config): one file per connector and authentication key, because the password belongs
// to the authentication key and every HMAC key reached through it shares the file. An
// existing file that already holds the same password is reused; one that holds anything
// else is replaced only with --force.
func newKeysFromBotoPatchCommand(e *env) *cobra.Command {
	var in keysFromBotoPatchInput
	cmd := &cobra.Command{
		Use:   "from-boto-patch [--pin-file PATH] [--force] < LINE",
		Short: "Print the yubihsm: key URI for the boto patch's hsm|... string on stdin (password to a 0600 file)",
		Long: `Read the boto patch's hsm|ip:port|authkeyid|password|hmackeyid (its aws_secret_access_key)
as one line of standard input, write the password to a 0600 pin file and print the
equivalent yubihsm: key URI. The device is not contacted: check the result with
awskeep keys describe --key URI, then remove the string from ~/.aws/credentials.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return keysFromBotoPatch(cmd.Context(), in, e) },
	}
	cmd.Flags().StringVar(&in.pinFile, "pin-file", "", "file to write the password to, mode 0600 (default $XDG_CONFIG_HOME/awskeep/yubihsm-HOST-PORT-auth-N.pw)")
	cmd.Flags().BoolVar(&in.force, "force", false, "replace a pin file that holds something else")
	return cmd
}

func keysFromBotoPatch(ctx context.Context, in keysFromBotoPatchInput, e *env) error {
	line, err := readBotoLine(ctx, e)
	if err != nil {
		return fmt.Errorf("from-boto-patch: %w", err)
	}
	c, err := parseBotoCredential(line)
	if err != nil {
		return fmt.Errorf("from-boto-patch: credential string: %w", err)
	}
	path := in.pinFile
	if path == "" {
		if path, err = defaultBotoPinFile(e, c); err != nil {
			return fmt.Errorf("from-boto-patch: %w", err)
		}
	}
	if path, err = filepath.Abs(path); err != nil {
		return fmt.Errorf("from-boto-patch: pin file: %w", err)
	}
	u := c.keyURI(path)
	if err := savePassword(path, c.password, in.force); err != nil {
		return fmt.Errorf("from-boto-patch: %w", err)
	}
	// Read the password back the way every later command will, so that a URI that does not
	// lead to it (an odd path, a file system that ignores the mode) fails now, not at first use.
	parsed, err := keyuri.Parse(u)
	if err != nil {
		return fmt.Errorf("from-boto-patch: the URI built is not valid: %w", err)
	}
	got, err := pin.Resolve(ctx, parsed, func(o *pin.Options) { o.Getenv = func(string) string { return "" }; o.NoPrompt = true })
	if err != nil {
		return fmt.Errorf("from-boto-patch: read back the pin file: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(c.password)) != 1 {
		return fmt.Errorf("from-boto-patch: the pin file %s does not read back the password written", path)
	}
	_, err = fmt.Fprintln(e.stdout, u)
	return err
}

// readBotoLine reads the one line of standard input, without echo on a terminal.
func readBotoLine(ctx context.Context, e *env) (string, error) {
	if isTerminal(e.stdin) {
		b, err := prompt.TTY{}.Secret(ctx, "boto patch credential (hsm|ip:port|authkeyid|password|hmackeyid): ")
		if err != nil {
			return "", fmt.Errorf("read the credential string from the terminal: %w", err)
		}
		return strings.TrimSpace(b), nil
	}
	data, err := io.ReadAll(io.LimitReader(e.stdin, maxBotoInput+1))
	if err != nil {
		return "", fmt.Errorf("read standard input: %w", err)
	}
	if len(data) > maxBotoInput {
		return "", fmt.Errorf("standard input is longer than %d bytes: give only the hsm|ip:port|authkeyid|password|hmackeyid line", maxBotoInput)
	}
	line, rest, _ := strings.Cut(string(data), "\n")
	if strings.TrimSpace(rest) != "" {
		return "", errors.New("standard input holds more than one line: give only the hsm|ip:port|authkeyid|password|hmackeyid line")
	}
	// A credentials file strips the spaces around a value; so does this.
	line = strings.TrimSpace(line)
	if line == "" {
		return "", errors.New("no credential string: pass the hsm|ip:port|authkeyid|password|hmackeyid line on standard input (never as an argument)")
	}
	return line, nil
}

// botoCredential is what the boto patch's hsm|ip:port|authkeyid|password|hmackeyid says.
type botoCredential struct {
	host, port string
	authKeyID  uint16
	password   string
	hmacKeyID  uint16
}

// The parse errors are fixed texts: they name the field at fault and never quote the input,
// since a field out of place may be the password.
var (
	errBotoPrefix    = errors.New("it does not start with hsm|: give the boto patch's hsm|ip:port|authkeyid|password|hmackeyid (its aws_secret_access_key)")
	errBotoFields    = errors.New("want exactly 5 |-separated fields, hsm|ip:port|authkeyid|password|hmackeyid (the password cannot hold |)")
	errBotoAddress   = errors.New("field 2 (ip:port) is not a host and a numeric port, e.g. 127.0.0.1:12345")
	errBotoAuthKeyID = errors.New("field 3 (authkeyid) is not an object id from 1 to 65535 (decimal, as the boto patch reads it, or 0x hexadecimal)")
	errBotoPassword  = errors.New("field 4 (password) is empty")
	errBotoControl   = errors.New("field 4 (password) holds control characters: check what was pasted")
	errBotoHMACKeyID = errors.New("field 5 (hmackeyid) is not an object id from 1 to 65535 (decimal, as the boto patch reads it, or 0x hexadecimal)")
)

// parseBotoCredential parses hsm|ip:port|authkeyid|password|hmackeyid strictly. The patch
// reads the ids with Python's int(), so decimal digits are decimal even with leading zeros
// ("0010" is 10, where Go's base-0 parsing would read octal 8); 0x hexadecimal, the form
// YubiHSM tools print, is accepted too.
func parseBotoCredential(s string) (botoCredential, error) {
	if !strings.HasPrefix(s, "hsm|") {
		return botoCredential{}, errBotoPrefix
	}
	f := strings.Split(s, "|")
	if len(f) != 5 {
		return botoCredential{}, errBotoFields
	}
	var c botoCredential
	var ok bool
	if c.host, c.port, ok = parseBotoAddress(f[1]); !ok {
		return botoCredential{}, errBotoAddress
	}
	if c.authKeyID, ok = parseBotoObjectID(f[2]); !ok {
		return botoCredential{}, errBotoAuthKeyID
	}
	c.password = f[3]
	if c.password == "" {
		return botoCredential{}, errBotoPassword
	}
	if strings.ContainsFunc(c.password, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return botoCredential{}, errBotoControl
	}
	if c.hmacKeyID, ok = parseBotoObjectID(f[4]); !ok {
		return botoCredential{}, errBotoHMACKeyID
	}
	return c, nil
}

// parseBotoAddress splits host:port: an IP address (IPv6 in brackets) or a DNS name, and a
// decimal port from 1 to 65535. The patch builds http://ip:port from it.
func parseBotoAddress(s string) (host, port string, ok bool) {
	host, port, err := net.SplitHostPort(s)
	if err != nil || !isDigits(port) {
		return "", "", false
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return "", "", false
	}
	port = strconv.FormatUint(n, 10)
	if ip := net.ParseIP(host); ip != nil {
		return ip.String(), port, true
	}
	if !isDNSName(host) {
		return "", "", false
	}
	return strings.ToLower(host), port, true
}

// isDNSName reports whether s is a host name: dot-separated labels of letters, digits and
// hyphens (RFC 1123 section 2.1), not all digits.
func isDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	allDigits := true
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			switch {
			case c >= '0' && c <= '9':
			case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-':
				allDigits = false
			default:
				return false
			}
		}
	}
	return !allDigits // 192.168.1 is a mistyped address, not a name
}

// parseBotoObjectID reads an object id: decimal digits (decimal even with leading zeros, as
// Python's int() reads them) or 0x hexadecimal, 1 to 0xffff. No signs, spaces or underscores.
func parseBotoObjectID(s string) (uint16, bool) {
	switch {
	case isDigits(s):
		s = strings.TrimLeft(s, "0")
		if s == "" || len(s) > 5 {
			return 0, false
		}
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") && isHex(s[2:]):
	default:
		return 0, false
	}
	id, err := keyuri.ObjectID(s) // the range check every yubihsm URI gets
	return id, err == nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return s != ""
}

// connector is the connector's base URL. The patch's http://ip:port/api is a bug: the
// connector serves /connector/api, which the plugin appends to this base.
func (c botoCredential) connector() string {
	return "http://" + net.JoinHostPort(c.host, c.port)
}

// keyURI is the yubihsm key URI for c with its password in the file at path (absolute).
func (c botoCredential) keyURI(path string) string {
	u := &keyuri.URI{
		Scheme: "yubihsm",
		Path:   []keyuri.Attr{{Name: "object-id", Value: fmt.Sprintf("0x%04x", c.hmacKeyID)}},
		Query: []keyuri.Attr{
			{Name: "connector", Value: c.connector()},
			{Name: "auth-key-id", Value: strconv.Itoa(int(c.authKeyID))},
			{Name: keyuri.PINSource, Value: fileURI(path)},
		},
	}
	return u.String()
}

// fileURI is the RFC 8089 file: URI of an absolute path, percent-encoded where a path may
// hold characters a URI cannot (spaces, %, ?, #), which pin-source decodes.
func fileURI(path string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(path), OmitHost: true}).String()
}

// defaultBotoPinFile is $XDG_CONFIG_HOME/awskeep/yubihsm-HOST-PORT-auth-N.pw.
func defaultBotoPinFile(e *env, c botoCredential) (string, error) {
	dir := e.getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home := e.getenv("HOME")
		if home == "" {
			return "", errors.New("neither $XDG_CONFIG_HOME nor $HOME is set: pass --pin-file PATH")
		}
		dir = filepath.Join(home, ".config")
	}
	host := strings.ReplaceAll(c.host, ":", "_") // IPv6 colons do not belong in a file name
	return filepath.Join(dir, "awskeep", fmt.Sprintf("yubihsm-%s-%s-auth-%d.pw", host, c.port, c.authKeyID)), nil
}

// savePassword writes password and a newline to path, mode 0600, creating the parent
// directory with mode 0700. The file appears whole or not at all: it is written to a
// temporary file beside it and then linked into place (which fails if path exists) or,
// with force, renamed over it. A file that already holds the same password is left alone.
func savePassword(path, password string, force bool) error {
	if old, err := pin.FromSource(path); err == nil && subtle.ConstantTimeCompare([]byte(old), []byte(password)) == 1 {
		return nil
	}
	if _, err := os.Lstat(path); err == nil && !force {
		return fmt.Errorf("pin file %s exists with other content or a mode other than 0600: pass --force to replace it, or --pin-file to write another", path)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("pin file directory: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("pin file: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // gone already after a rename; after a link, the extra name goes
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.WriteString(password + "\n")
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write pin file: %w", err)
	}
	if force {
		err = os.Rename(tmp, path)
	} else {
		err = os.Link(tmp, path)
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("pin file %s appeared while it was being written: pass --force to replace it", path)
	}
	if err != nil {
		return fmt.Errorf("write pin file: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // the new name survives a crash; not every file system can, hence no error
		d.Close()
	}
	return nil
}
