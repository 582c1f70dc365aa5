package keyringstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"

	"github.com/99designs/keyring"

	"github.com/awskeep/awskeep/core/secretsource/keyringstore/protocol"
)

// Get reads item name from the first available backend.
func Get(ctx context.Context, name string, opts Options) (string, error) {
	if err := protocol.CheckName(name); err != nil {
		return "", newError(ErrInvalidName, nil, "item name %q: %s", name, err)
	}
	kr, err := open(ctx, opts)
	if err != nil {
		return "", err
	}
	if kr.backend == protocol.BackendFile {
		// Without this the file backend would create its directory on a read.
		if _, err := os.Stat(kr.fileDir); errors.Is(err, fs.ErrNotExist) {
			return "", kr.notFound(name)
		}
	}
	item, err := call(ctx, func() (keyring.Item, error) { return kr.Get(kr.key(name)) })
	if err != nil {
		if errors.Is(err, keyring.ErrKeyNotFound) {
			return "", kr.notFound(name)
		}
		return "", kr.explain("read", name, err)
	}
	defer clear(item.Data)
	switch {
	case len(item.Data) == 0:
		return "", newError(ErrEmpty, nil, "item %q in %s is empty", name, kr.describe())
	case len(item.Data) > protocol.MaxSecret:
		return "", newError(nil, nil, "item %q in %s holds more than %d KiB: is it a password?", name, kr.describe(), protocol.MaxSecret>>10)
	}
	return string(item.Data), nil
}

// Set puts secret into the first available backend as item name, replacing an item of
// that name.
//
// With the file backend, a password that does not open the items already in the directory
// is refused (ErrUnauthorized) rather than leaving items under two passwords, and the
// first item's password is asked for with protocol.PasswordRequest.Confirm set.
func Set(ctx context.Context, name, secret string, opts Options) error {
	if err := protocol.CheckName(name); err != nil {
		return newError(ErrInvalidName, nil, "item name %q: %s", name, err)
	}
	switch {
	case secret == "":
		return newError(ErrEmpty, nil, "nothing to store: the secret is empty")
	case len(secret) > protocol.MaxSecret:
		return newError(nil, nil, "nothing stored: the secret is longer than %d KiB", protocol.MaxSecret>>10)
	}
	kr, err := open(ctx, opts)
	if err != nil {
		return err
	}
	if kr.backend == protocol.BackendFile {
		if err := kr.checkFilePassword(ctx, name); err != nil {
			return err
		}
	}
	// Not cleared afterwards: a call abandoned at the context's end may still be reading it.
	item := keyring.Item{
		Key:         kr.key(name),
		Data:        []byte(secret),
		Label:       kr.key(name),
		Description: "awskeep secret (awskeep_saml_password_source = keyring:" + name + ")",
	}
	if _, err := call(ctx, func() (struct{}, error) { return struct{}{}, kr.Set(item) }); err != nil {
		return kr.explain("store", name, err)
	}
	return nil
}

// openedKeyring is a backend opened for one call.
type openedKeyring struct {
	keyring.Keyring
	backend    string
	service    string
	fileDir    string
	passDir    string
	passPrefix string
	scope      string
	collection string
	password   *filePassword
}

// key is the item key in the backend. The Secret Service collection is shared with other
// programs, so awskeep's items there carry the service name.
func (k *openedKeyring) key(name string) string {
	if k.backend == protocol.BackendSecretService {
		return k.service + "/" + name
	}
	return name
}

// describe names the backend and where it keeps items, for messages.
func (k *openedKeyring) describe() string {
	switch k.backend {
	case protocol.BackendSecretService:
		return fmt.Sprintf("the Secret Service collection %q", k.collection)
	case protocol.BackendKeyctl:
		return fmt.Sprintf("the kernel keyring %q (keyctl, %s scope)", k.service, k.scope)
	case protocol.BackendPass:
		return fmt.Sprintf("the pass store %s (folder %s)", k.passDir, k.passPrefix)
	default:
		return "the keyring files in " + k.fileDir
	}
}

func (k *openedKeyring) notFound(name string) error {
	return newError(ErrNotFound, nil, "no item %q in %s", name, k.describe())
}

// open opens the first available backend. keyring.Open says only "not available" for any
// failure, so each backend is opened alone and the reason for skipping it is worked out
// here, for the error that lists them all.
func open(ctx context.Context, opts Options) (*openedKeyring, error) {
	backends, err := opts.backends()
	if err != nil {
		return nil, err
	}
	kr := &openedKeyring{
		service:    or(opts.ServiceName, "awskeep"),
		passPrefix: or(opts.PassPrefix, "awskeep"),
		scope:      or(opts.KeyctlScope, "user"),
		collection: or(opts.SecretServiceCollection, "login"),
	}
	var skipped []string
	for _, b := range backends {
		cfg := keyring.Config{
			AllowedBackends:         []keyring.BackendType{keyring.BackendType(b)},
			ServiceName:             kr.service,
			KeyCtlScope:             kr.scope,
			LibSecretCollectionName: kr.collection,
			PassCmd:                 or(opts.PassCmd, "pass"),
			PassPrefix:              kr.passPrefix,
		}
		switch b {
		case protocol.BackendSecretService:
			if !slices.Contains(keyring.AvailableBackends(), keyring.SecretServiceBackend) {
				skipped = append(skipped, b+": no D-Bus session bus ($DBUS_SESSION_BUS_ADDRESS)")
				continue
			}
		case protocol.BackendKeyctl:
			if runtime.GOOS != "linux" {
				skipped = append(skipped, b+": Linux only")
				continue
			}
		case protocol.BackendPass:
			if _, err := exec.LookPath(cfg.PassCmd); err != nil {
				skipped = append(skipped, fmt.Sprintf("%s: no %s program (apt-get install pass)", b, cfg.PassCmd))
				continue
			}
			dir, err := opts.passDir()
			if err != nil {
				skipped = append(skipped, b+": "+err.Error())
				continue
			}
			cfg.PassDir, kr.passDir = dir, dir
		case protocol.BackendFile:
			dir, err := opts.fileDir()
			if err != nil {
				return nil, newError(ErrNotConfigured, nil, "%s", err)
			}
			kr.fileDir = dir
			cfg.FileDir = dir
			kr.password = &filePassword{ctx: ctx, opts: opts, dir: dir}
			cfg.FilePasswordFunc = kr.password.get
		}
		// Opening a secret-service backend is a D-Bus exchange; keyctl may create
		// awskeep's named keyring.
		opened, err := call(ctx, func() (keyring.Keyring, error) { return keyring.Open(cfg) })
		if err != nil {
			if ctx.Err() != nil {
				return nil, newError(nil, ctx.Err(), "open the keyring (%s)", b)
			}
			switch b {
			case protocol.BackendSecretService:
				skipped = append(skipped, b+": the Secret Service did not open a session")
			case protocol.BackendKeyctl:
				skipped = append(skipped, fmt.Sprintf("%s: the kernel refused the %s keyring", b, kr.scope))
			default:
				skipped = append(skipped, b+": "+err.Error())
			}
			continue
		}
		kr.Keyring, kr.backend = opened, b
		return kr, nil
	}
	return nil, newError(ErrUnavailable, nil, "no keyring backend available (%s); choose one with $%s",
		strings.Join(skipped, "; "), protocol.EnvBackend)
}

// checkFilePassword makes Set keep one password per directory: with items there, the
// password must open one of them (name's, if it exists); with none, a typed password is
// asked twice.
func (k *openedKeyring) checkFilePassword(ctx context.Context, name string) error {
	keys, err := call(ctx, k.Keys)
	if err != nil {
		return k.explain("list", name, err)
	}
	if len(keys) == 0 {
		k.password.confirm = true
		return nil
	}
	probe := keys[0]
	if slices.Contains(keys, name) {
		probe = name
	}
	item, err := call(ctx, func() (keyring.Item, error) { return k.Get(probe) })
	clear(item.Data)
	if err == nil {
		return nil
	}
	var pe *passwordError
	if errors.As(err, &pe) || ctx.Err() != nil {
		return k.explain("store", name, err)
	}
	return newError(ErrUnauthorized, nil, "the keyring password does not open the items already in %s: use their password ($%s)",
		k.fileDir, protocol.EnvPassword)
}

// explain turns a backend's error into an *Error. Errors that might quote the item's
// content (a JSON decoding error quotes the byte it stopped at) are not passed on.
func (k *openedKeyring) explain(op, name string, err error) error {
	where := k.describe()
	var (
		pe     *passwordError
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
		exit   *exec.ExitError
		pathE  *fs.PathError
	)
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return newError(nil, err, "%s item %q in %s", op, name, where)
	case errors.As(err, &pe):
		return newError(nil, pe.err, "unlock %s", where)
	case errors.As(err, &syntax) || errors.As(err, &typ):
		return newError(ErrForeignItem, nil, "item %q in %s is not in the form awskeep stores", name, where)
	case k.backend == protocol.BackendPass && errors.As(err, &exit):
		hint := "gpg's message, if any, is above"
		if op == "store" {
			hint = "is the store initialised (pass init GPG-ID)? pass's message, if any, is above"
		}
		return newError(nil, nil, "pass %s %s/%s failed (exit status %d): %s",
			map[string]string{"read": "show", "store": "insert"}[op], k.passPrefix, name, exit.ExitCode(), hint)
	case k.backend == protocol.BackendFile && op != "list" && !errors.As(err, &pathE):
		// The file was read; only decryption can have failed.
		return newError(ErrUnauthorized, nil, "cannot decrypt item %q in %s: wrong keyring password ($%s) or a damaged file",
			name, k.fileDir, protocol.EnvPassword)
	}
	if k.backend == protocol.BackendSecretService && op == "store" && k.collection != "login" {
		// go-libsecret reports a dismissed or impossible creation prompt obscurely.
		return newError(nil, err, "%s item %q in %s (a collection other than login is created through a desktop prompt; is one available?)",
			op, name, where)
	}
	return newError(nil, err, "%s item %q in %s", op, name, where)
}

// filePassword is the file backend's password function: Options.FilePassword,
// $AWSKEEP_KEYRING_PASSWORD, then the Prompter. keyring calls it at most once per opened
// keyring.
type filePassword struct {
	ctx     context.Context
	opts    Options
	dir     string
	confirm bool // Set is creating the first item
}

// passwordError marks an error of the password function, so explain can tell it from a
// decryption failure.
type passwordError struct{ err error }

func (e *passwordError) Error() string { return e.err.Error() }
func (e *passwordError) Unwrap() error { return e.err }

func (p *filePassword) get(string) (string, error) {
	req := protocol.PasswordRequest{Dir: p.dir, Confirm: p.confirm}
	var (
		v   string
		err error
	)
	if f := p.opts.FilePassword; f != nil {
		v, err = f(p.ctx, req)
	} else if v = p.opts.getenv(protocol.EnvPassword); v == "" {
		v, err = protocol.AskFilePassword(p.ctx, p.opts.prompter(), req)
	}
	switch {
	case errors.Is(err, protocol.ErrNoPassword):
		return "", &passwordError{newError(ErrEmpty, err, "")}
	case err != nil:
		return "", &passwordError{err}
	case v == "":
		return "", &passwordError{newError(ErrEmpty, nil, "the keyring password is empty")}
	}
	return v, nil
}

// call runs f, which may block in D-Bus, gpg or a GUI prompt, until it returns or ctx
// ends; then the call is abandoned and ends on its own. A panic in a backend (go-libsecret
// asserts on D-Bus replies) becomes an error.
func call[T any](ctx context.Context, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	if err := ctx.Err(); err != nil {
		var zero T
		return zero, err
	}
	ch := make(chan result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				msg := "keyring backend failed unexpectedly"
				if re, ok := r.(runtime.Error); ok {
					msg += ": " + re.Error()
				}
				ch <- result{err: errors.New(msg)}
			}
		}()
		v, err := f()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}
