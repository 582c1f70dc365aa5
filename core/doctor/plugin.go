package doctor

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/awskeep/awskeep/core/pluginhost"
	"github.com/awskeep/awskeep/plugins"
)

// checkPlugin finds the plugin for the key's scheme and checks what the host checks before
// it runs one: the binary (and its directory) are not writable by others, and its sha256
// matches the pin file when the plugin is pinned. Without a key it checks every installed
// plugin.
func (s *state) checkPlugin() Result {
	opts := s.in.Plugins
	if s.noKey {
		return s.checkInstalled(opts)
	}
	if !s.settingsOK {
		return skip("needs the key URI from the settings")
	}
	name := s.key.Scheme
	path, err := pluginhost.Find(name, opts)
	if errors.Is(err, pluginhost.ErrNotFound) {
		return fail(fmt.Sprintf("%s%s is not in %s", pluginhost.Prefix, name, strings.Join(pluginhost.SearchPath(opts), ", ")),
			"install it into one of those directories (or pass --plugin-dir)")
	}
	if err != nil {
		return fail(err.Error(), "install the plugin into a directory of the search path (or pass --plugin-dir)")
	}
	pins, err := pluginhost.LoadPins(opts.PinFile)
	if err != nil {
		return fail(err.Error(), "correct or remove "+opts.PinFile+", then run awskeep plugins pin")
	}
	r := checkBinary(path, pins, opts.PinFile)
	s.pluginOK = r.Status == OK
	return r
}

// checkInstalled checks every plugin in the search path.
func (s *state) checkInstalled(opts pluginhost.Options) Result {
	paths := pluginhost.Installed(opts)
	if len(paths) == 0 {
		return fail(fmt.Sprintf("no %s* in %s", pluginhost.Prefix, strings.Join(pluginhost.SearchPath(opts), ", ")),
			"install the plugin for your device into one of those directories (or pass --plugin-dir)")
	}
	pins, err := pluginhost.LoadPins(opts.PinFile)
	if err != nil {
		return fail(err.Error(), "correct or remove "+opts.PinFile+", then run awskeep plugins pin")
	}
	var details, fixes, names []string
	for _, p := range paths {
		r := checkBinary(p, pins, opts.PinFile)
		if r.Status != OK {
			details, fixes = append(details, r.Detail), append(fixes, r.Fix)
			continue
		}
		names = append(names, strings.TrimPrefix(filepath.Base(p), pluginhost.Prefix))
	}
	if len(details) > 0 {
		return fail(strings.Join(details, "; "), strings.Join(fixes, "; "))
	}
	return ok("%d installed (%s), none writable by others; checksums match their pins where pinned", len(names), strings.Join(names, ", "))
}

// checkBinary checks one plugin binary as pluginhost does before starting it, with a fix
// for each way it can be refused.
func checkBinary(path string, pins map[string][]byte, pinFile string) Result {
	if err := pluginhost.CheckPermissions(path); err != nil {
		return permissionFailure(path, err)
	}
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o022 != 0 {
		return fail(fmt.Sprintf("directory %s of %s is writable by group or others (mode %04o): anyone could replace the plugin", dir, path, fi.Mode().Perm()),
			"chmod go-w "+dir)
	}
	name := strings.TrimPrefix(filepath.Base(path), pluginhost.Prefix)
	want, pinned := pins[name]
	if !pinned {
		return ok("%s, not writable by others; not pinned (awskeep plugins pin records its sha256)", path)
	}
	sum, err := pluginhost.Checksum(path)
	if err != nil {
		return fail(fmt.Sprintf("cannot read %s: %v", path, err), "make it readable by you")
	}
	if sum != hex.EncodeToString(want) {
		return fail(fmt.Sprintf("%s no longer matches its pinned sha256 in %s (now %s)", path, pinFile, sum),
			"awskeep plugins pin, if the change is intended (an upgrade); otherwise reinstall the plugin")
	}
	return ok("%s, not writable by others; sha256 matches its pin", path)
}

// permissionFailure explains why pluginhost.CheckPermissions refused path.
func permissionFailure(path string, err error) Result {
	var unsafe *plugins.UnsafeFileError
	if errors.As(err, &unsafe) && unsafe.Fix != "" {
		return fail(err.Error(), unsafe.Fix)
	}
	fi, serr := os.Stat(path)
	if serr != nil {
		return fail(err.Error(), "reinstall the plugin")
	}
	perm := fi.Mode().Perm()
	switch {
	case !fi.Mode().IsRegular():
		return fail(path+" is not a regular file", "replace it with the plugin binary")
	case perm&0o022 != 0:
		return fail(fmt.Sprintf("%s is writable by group or others (mode %04o): awskeep refuses to run it", path, perm),
			"chmod go-w "+path)
	case perm&0o111 == 0:
		return fail(fmt.Sprintf("%s is not executable (mode %04o)", path, perm), "chmod u+x "+path)
	}
	if uid, ok := owner(fi); ok && uid != 0 && uid != os.Getuid() {
		return fail(fmt.Sprintf("%s belongs to another user (uid %d): awskeep refuses to run it", path, uid),
			"reinstall it as yourself or as root")
	}
	return fail(err.Error(), "reinstall the plugin")
}
