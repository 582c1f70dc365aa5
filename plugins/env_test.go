package plugins_test

import (
	"strconv"
	"testing"

	"github.com/awskeep/awskeep/plugins"
)

// FuzzPluginDepth: any value of $AWSKEEP_PLUGIN_DEPTH gives a depth in [0, 1000] or
// MaxDepth+1 (refuse), and a value the host wrote (a small number) reads back as itself.
func FuzzPluginDepth(f *testing.F) {
	for _, s := range []string{"", "0", "1", "2", "-1", "1000", "1001", "x", " 1", "01", "+1", "9999999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got := plugins.PluginDepth(func(string) string { return v })
		if got < 0 || got > 1000 && got != plugins.MaxDepth+1 {
			t.Fatalf("PluginDepth(%q) = %d", v, got)
		}
		if n, err := strconv.Atoi(v); err == nil && n >= 0 && n <= 1000 && got != n {
			t.Fatalf("PluginDepth(%q) = %d, want %d", v, got, n)
		}
		if v != "" && got == 0 {
			if n, err := strconv.Atoi(v); err != nil || n != 0 {
				t.Fatalf("PluginDepth(%q) = 0 for a value that is not 0", v)
			}
		}
	})
}
