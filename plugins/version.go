package plugins

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Release stamps, empty unless the linker sets them. scripts/release.sh (make release)
// sets the same three in every binary of a release, host and plugins alike, from git:
//
//	-X github.com/awskeep/awskeep/plugins.releaseVersion=0.1.0
//	-X github.com/awskeep/awskeep/plugins.releaseCommit=<the commit's 40 hex digits>
//	-X github.com/awskeep/awskeep/plugins.releaseDate=<the commit time, RFC 3339, UTC>
//
// They are variables, not constants, because -X can only set package-level strings.
var (
	releaseVersion string
	releaseCommit  string
	releaseDate    string
)

// Build says which build of awskeep the running binary is. The host prints it for
// `awskeep version`; the in-tree plugins report it in Info.Version (BuildVersion).
type Build struct {
	// Version is the release version ("0.1.0") of a binary built by make release, and
	// "devel" for any other build.
	Version string
	// Commit is the git commit the binary was built from: the release stamp, else the
	// revision the go command recorded (go build -buildvcs, the default in a git work
	// tree); empty when unknown.
	Commit string
	// Date is the commit's time in RFC 3339, from the same place as Commit; empty when
	// unknown. It is the commit's time, not the build's, so that two builds of one commit
	// are identical.
	Date string
	// Modified says the go command saw uncommitted changes in the work tree: the binary
	// is not what Commit names. Never set for a release, which is built from the commit.
	Modified bool
	// Release says the linker stamped the binary (make release).
	Release bool
}

// CurrentBuild returns the running binary's Build: the release stamps when the linker set
// them, else "devel" with whatever VCS information the go command stored in the binary
// (runtime/debug.BuildInfo settings vcs.revision, vcs.time and vcs.modified).
func CurrentBuild() Build {
	if releaseVersion != "" {
		return Build{Version: releaseVersion, Commit: releaseCommit, Date: releaseDate, Release: true}
	}
	b := Build{Version: "devel"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.time":
			b.Date = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// String renders the build on one line: "0.1.0 (commit 0123456789ab, 2026-11-30T15:52:44Z)"
// for a release, "devel (commit 0123456789ab+modified, ...)" or plain "devel" otherwise.
func (b Build) String() string {
	d := b.Details()
	if len(d) == 0 {
		return b.Version
	}
	return b.Version + " (" + strings.Join(d, ", ") + ")"
}

// Details returns what String puts in parentheses after the version: "commit" and the
// first 12 hex digits of the commit (with "+modified" for a modified tree), then the date;
// nothing when the commit is unknown.
func (b Build) Details() []string {
	if b.Commit == "" {
		return nil
	}
	commit := b.Commit
	if len(commit) > 12 {
		commit = commit[:12]
	}
	if b.Modified {
		commit += "+modified"
	}
	d := []string{"commit " + commit}
	if b.Date != "" {
		d = append(d, b.Date)
	}
	return d
}

// BuildVersion is the Info.Version of a plugin built in awskeep's repository: the release
// build (CurrentBuild) when make release stamped the binary, since the plugin is then
// exactly that release; otherwise own, the backend's version constant, marked as a
// development build with the commit if the go command recorded one ("0.1.0-devel (commit
// ...)"). A plugin built elsewhere reports its own version however it likes.
func BuildVersion(own string) string {
	b := CurrentBuild()
	if !b.Release {
		b.Version = own + "-devel"
	}
	return b.String()
}

// VersionLine is what every awskeep binary prints for --version: the program's name, the
// build (CurrentBuild), the plugin protocol it speaks, the Go toolchain and the platform.
//
//	awskeep 0.1.0 (commit 0123456789ab, 2026-11-30T15:52:44Z; plugin protocol 1.3, go1.26.8 linux/amd64)
func VersionLine(program string) string {
	b := CurrentBuild()
	platform := fmt.Sprintf("plugin protocol %s, %s %s/%s", ProtocolVersion, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if d := b.Details(); len(d) > 0 {
		return fmt.Sprintf("%s %s (%s; %s)", program, b.Version, strings.Join(d, ", "), platform)
	}
	return fmt.Sprintf("%s %s (%s)", program, b.Version, platform)
}
