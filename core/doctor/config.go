package doctor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/awskeep/awskeep/core/profile"
)

// maxUnknown bounds how many unknown settings one profile's report lists.
const maxUnknown = 10

// checkConfig reads the config file and the profile, or, without a profile, every profile
// in the file, and reports each unknown awskeep_* setting with its FILE:LINE.
func (s *state) checkConfig() Result {
	path, err := profile.DefaultPath(s.in.Getenv)
	if err != nil {
		if s.in.Profile == "" {
			s.configOK = true
			return skip("no --profile, and no config file to read (%v)", err)
		}
		return fail(err.Error(), "set HOME, or AWS_CONFIG_FILE to the config file's path")
	}
	s.configPath = path
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if s.in.Profile == "" {
			s.configOK = true
			return skip("no --profile, and %s does not exist", path)
		}
		return fail(path+" does not exist",
			fmt.Sprintf("create it with a [%s] section holding awskeep_key and awskeep_access_key_id (see awskeep --help), or set AWS_CONFIG_FILE", section(s.in.Profile)))
	}

	if s.in.Profile != "" {
		p, err := profile.Load(path, s.in.Profile)
		var pe *profile.Error
		if errors.As(err, &pe) && unknownSetting(pe) {
			// Load stops at the first unknown setting; find the others too.
			if data, rerr := os.ReadFile(path); rerr == nil {
				if _, all := parseProfile(data, path, s.in.Profile); len(all) > 0 {
					return configFailure(path, s.in.Profile, all)
				}
			}
		}
		if err != nil {
			return configFailure(path, s.in.Profile, []error{err})
		}
		s.prof, s.configOK = p, true
		return ok("%s [%s] parses", path, section(s.in.Profile))
	}

	// No profile: the file must still parse, and no profile in it may hold a setting
	// awskeep would refuse when that profile is used.
	s.configOK = true
	if _, err := profile.Load(path, ""); err != nil && !errors.Is(err, profile.ErrNotFound) {
		return configFailure(path, "", []error{err})
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return configFailure(path, "", []error{err})
	}
	names := profile.Names(data)
	var problems []error
	for _, name := range names {
		if _, p := parseProfile(data, path, name); len(p) > 0 {
			problems = append(problems, p...)
		}
	}
	if len(problems) > 0 {
		return configFailure(path, "", problems)
	}
	return ok("%s parses (%s)", path, countProfiles(len(names)))
}

// parseProfile parses profile name and returns every problem in it: profile.Parse stops at
// the first unknown awskeep_* setting, so each one found is blanked out (its line kept, so
// the numbers stay right) and the profile parsed again.
func parseProfile(data []byte, path, name string) (*profile.Profile, []error) {
	var problems []error
	for range maxUnknown {
		p, err := profile.Parse(data, path, name)
		if err == nil {
			if len(problems) > 0 {
				return nil, problems
			}
			return p, nil
		}
		var pe *profile.Error
		if !errors.As(err, &pe) || !unknownSetting(pe) || pe.Line <= 0 {
			if len(problems) > 0 && errors.As(err, &pe) && pe.Line > 0 && strings.HasPrefix(pe.Msg, "not a valid config file") {
				// Blanking a line broke a multi-line value: report what was found.
				return nil, problems
			}
			return nil, append(problems, err)
		}
		problems = append(problems, err)
		data = blankLine(data, pe.Line)
	}
	return nil, problems
}

// unknownSetting reports whether e is about an awskeep_* setting that does not exist.
func unknownSetting(e *profile.Error) bool {
	return strings.HasPrefix(e.Setting, "awskeep_") && !slices.Contains(profile.KnownSettings, e.Setting)
}

// blankLine replaces line n (from 1) of data with a comment, keeping every other line where
// it was.
func blankLine(data []byte, n int) []byte {
	lines := strings.SplitAfter(string(data), "\n")
	if n < 1 || n > len(lines) {
		return data
	}
	end := ""
	if strings.HasSuffix(lines[n-1], "\n") {
		end = "\n"
	}
	lines[n-1] = "#" + end
	return []byte(strings.Join(lines, ""))
}

// configFailure reports the problems of the config file with one fix.
func configFailure(path, name string, problems []error) Result {
	texts := make([]string, len(problems))
	for i, p := range problems {
		texts[i] = p.Error()
	}
	detail := strings.Join(texts, "; ")
	var pe *profile.Error
	first := problems[0]
	switch {
	case errors.Is(first, fs.ErrPermission):
		return fail(detail, "make "+path+" readable by you (chmod u+r "+path+")")
	case len(problems) == 1 && errors.Is(first, profile.ErrNotFound):
		return fail(detail, fmt.Sprintf("add a [%s] section to %s, or pass the name of a profile that exists", section(name), path))
	case errors.As(first, &pe) && unknownSetting(pe):
		where := make([]string, 0, len(problems))
		for _, p := range problems {
			if errors.As(p, &pe) && pe.Line > 0 {
				where = append(where, pe.File+":"+strconv.Itoa(pe.Line))
			}
		}
		return fail(detail, "correct or remove the setting at "+strings.Join(where, ", "))
	case errors.As(first, &pe) && pe.Line > 0:
		return fail(detail, fmt.Sprintf("edit %s:%d", pe.File, pe.Line))
	}
	return fail(detail, "edit "+path)
}

// section is how profile name is written in the config file.
func section(name string) string {
	if name == "default" {
		return "default"
	}
	return "profile " + name
}

func countProfiles(n int) string {
	if n == 1 {
		return "1 profile"
	}
	return strconv.Itoa(n) + " profiles"
}
