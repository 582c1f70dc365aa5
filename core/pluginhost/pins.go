package pluginhost

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// LoadPins reads a pin file: one "SHA256HEX  NAME" line per plugin, as sha256sum prints
// (NAME is the plugin name without the awskeep-plugin- prefix). A missing file pins nothing.
func LoadPins(path string) (map[string][]byte, error) {
	pins := map[string][]byte{}
	if path == "" {
		return pins, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return pins, nil
	}
	if err != nil {
		return nil, fmt.Errorf("plugin pin file: %w", err)
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
