package profile

import "strings"

// profileName returns the profile a section of the config file defines, as
// botocore reads section names: [default] is the default profile, and
// [profile NAME] is profile NAME, split like a shell would (shlex.split), so
// extra spaces are allowed and a name with spaces can be quoted
// ([profile "my profile"]). Anything else, a bare [NAME] included, is no
// profile in the config file.
func profileName(section string) (string, bool) {
	if section == "default" {
		return section, true
	}
	return prefixedName(section, "profile")
}

// servicesName returns NAME for a [services NAME] section.
func servicesName(section string) (string, bool) {
	return prefixedName(section, "services")
}

func prefixedName(section, word string) (string, bool) {
	if !strings.Contains(section, word) {
		return "", false // the common case, without allocating
	}
	parts, ok := ShellSplit(section)
	if !ok || len(parts) != 2 || parts[0] != word || parts[1] == "" {
		return "", false
	}
	return parts[1], true
}

// ShellSplit splits s into words the way Python's shlex.split does in its
// default POSIX mode, which is how botocore splits section names and, on
// POSIX systems, a credential_process line (compat_shell_split; awskeep
// migrate reads the old tools' lines with it): words are separated by spaces,
// tabs and newlines; single quotes keep everything; double quotes keep
// everything but \" and \\; a backslash outside quotes escapes the next
// character. ok is false where shlex raises ValueError (an unclosed quote, a
// trailing backslash), which botocore treats as "not a profile".
func ShellSplit(s string) (words []string, ok bool) {
	var cur strings.Builder
	inWord := false
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch quote {
		case '\'':
			if c == '\'' {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case '"':
			switch {
			case c == '"':
				quote = 0
			case c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\'):
				i++
				cur.WriteByte(s[i])
			default:
				cur.WriteByte(c)
			}
		default:
			switch c {
			case ' ', '\t', '\r', '\n':
				if inWord {
					words = append(words, cur.String())
					cur.Reset()
					inWord = false
				}
			case '\\':
				if i+1 == len(s) {
					return nil, false
				}
				i++
				cur.WriteByte(s[i])
				inWord = true
			case '\'', '"':
				quote = c
				inWord = true
			default:
				cur.WriteByte(c)
				inWord = true
			}
		}
	}
	if quote != 0 {
		return nil, false
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, true
}
