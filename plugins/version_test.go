package plugins

import (
	"strings"
	"testing"
)

func TestBuildString(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    Build
		want string
	}{
		{"release", Build{Version: "0.1.0", Commit: "0123456789abcdef0123456789abcdef01234567", Date: "2026-11-30T15:52:44Z", Release: true},
			"0.1.0 (commit 0123456789ab, 2026-11-30T15:52:44Z)"},
		{"modified tree", Build{Version: "devel", Commit: "0123456789abcdef", Modified: true}, "devel (commit 0123456789ab+modified)"},
		{"short commit", Build{Version: "devel", Commit: "abc"}, "devel (commit abc)"},
		{"nothing known", Build{Version: "devel", Date: "2026-11-30T15:52:44Z"}, "devel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.b.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}

// A test binary is never stamped by the linker: it reports a development build, and
// BuildVersion marks the backend's own version as one. make release-test tests the
// stamped binaries (every binary's --version and the plugins' Info through plugins list).
func TestBuildVersionUnstamped(t *testing.T) {
	if b := CurrentBuild(); b.Release || b.Version != "devel" {
		t.Fatalf("CurrentBuild() = %#v, want an unstamped devel build", b)
	}
	if got := BuildVersion("0.1.0"); !strings.HasPrefix(got, "0.1.0-devel") {
		t.Errorf("BuildVersion(0.1.0) = %q, want 0.1.0-devel...", got)
	}
}

// TestVersionLine: every binary's --version names the program, the build and the protocol.
func TestVersionLine(t *testing.T) {
	got := VersionLine("awskeep-plugin-x")
	want := "awskeep-plugin-x " + CurrentBuild().Version + " ("
	if !strings.HasPrefix(got, want) || !strings.Contains(got, "plugin protocol "+ProtocolVersion+", go") || strings.Contains(got, "\n") {
		t.Errorf("VersionLine = %q, want one line starting %q and naming protocol %s", got, want, ProtocolVersion)
	}
}
