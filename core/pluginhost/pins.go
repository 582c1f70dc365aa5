package pluginhost

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/awskeep/awskeep/plugins"
)

// LoadPins reads a pin file: one "SHA256HEX  NAME" line per plugin, as sha256sum prints
// (NAME is the plugin name without the awskeep-plugin- prefix). A missing file pins nothing.
//
// The pin file decides which binaries run, so it is held to the plugins' rules (see
// CheckPermissions): not writable by group or others, owned by root or the current user,
// in directories only they can change. Otherwise it is refused with ErrUnsafe.
func LoadPins(path string) (map[string][]byte, error) {
	pins := map[string][]byte{}
	if path == "" {
		return pins, nil
	}
	// Where there is no pin file, nothing is pinned, whatever the directories above.
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return pins, nil
	}
	f, err := plugins.OpenTrusted(path)
	if errors.Is(err, fs.ErrNotExist) {
		return pins, nil
	}
	if err != nil {
		return nil, refusal("plugin pin file", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		sum, err := hex.DecodeString(fields[0])
		if len(fields) != 2 || err != nil || len(sum) != 32 {
			return nil, fmt.Errorf("plugin pin file %s line %d: want \"SHA256HEX  NAME\"", path, n)
		}
		pins[strings.TrimPrefix(fields[1], Prefix)] = sum
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("plugin pin file %s: %w", path, err)
	}
	return pins, nil
}
