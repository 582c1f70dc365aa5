package rotate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/awskeep/awskeep/plugins/keyuri"
)

// Steps of a rotation, in order. The journal names the last step that completed; Run
// resumes after it.
const (
	StepBegun          = "begun"           // old key checked, new object name chosen, keys listed
	StepCreated        = "created"         // IAM created the new access key (its id recorded)
	StepImported       = "imported"        // the new secret is in the device
	StepVerified       = "verified"        // STS accepted a request signed with the new key
	StepProfileUpdated = "profile-updated" // the profile names the new key
	StepDeactivated    = "old-deactivated" // the old access key is Inactive
	StepDeletedKey     = "old-key-deleted" // the old access key is deleted (not with --keep-old)
	StepDeletedObject  = "old-object-deleted"
)

// Steps lists the steps in order (the test hook names them).
var Steps = []string{StepBegun, StepCreated, StepImported, StepVerified, StepProfileUpdated,
	StepDeactivated, StepDeletedKey, StepDeletedObject}

// journalVersion is the format of the journal file; another version is refused with advice.
const journalVersion = 1

// maxJournalSize bounds what is read: a journal is a few hundred bytes.
const maxJournalSize = 64 << 10

// journal is the record of one rotation in progress. It holds no secret: access key ids,
// key URIs without pin-value or pin-source, the IAM user name and the step.
type journal struct {
	Version    int    `json:"version"`
	Profile    string `json:"profile"`
	ConfigFile string `json:"config_file"`
	Step       string `json:"step"`
	// UserName is the IAM user whose key rotates ("" for an account's root key).
	UserName string `json:"user_name"`
	// OldAccessKeyID and OldKey are the key being replaced; NewKey is the object chosen
	// for the new one, NewAccessKeyID its id once IAM created it.
	OldAccessKeyID string `json:"old_access_key_id"`
	OldKey         string `json:"old_key"`
	NewKey         string `json:"new_key"`
	NewAccessKeyID string `json:"new_access_key_id,omitempty"`
	// KeysBefore are the user's access key ids when the rotation began.
	KeysBefore []string `json:"keys_before"`
	// CreateSent is when a run was about to send CreateAccessKey (zero: never). A run that
	// died after sending it but before recording the answer left a key whose secret is
	// lost: a key not in KeysBefore, created after CreateSent.
	CreateSent time.Time `json:"create_sent,omitzero"`
	// KeepOld leaves the old key Inactive and its device object in place.
	KeepOld bool      `json:"keep_old"`
	Began   time.Time `json:"began"`
	Updated time.Time `json:"updated"`
}

// journalPaths returns the journal and lock file of profile in configFile, in dir: named
// by a hash, so that profile names need no escaping and one profile of two config files
// (AWS_CONFIG_FILE) never share a journal.
func journalPaths(dir, configFile, profile string) (journalPath, lockPath string) {
	sum := sha256.Sum256([]byte("awskeep rotate journal v1\x00" + configFile + "\x00" + profile))
	stem := filepath.Join(dir, "rotate-"+hex.EncodeToString(sum[:16]))
	return stem + ".json", stem + ".lock"
}

// DefaultStateDir is where journals are kept: $XDG_STATE_HOME/awskeep (XDG Base Directory
// Specification 0.8: state that should persist between restarts but is not user data),
// default ~/.local/state/awskeep; a relative XDG_STATE_HOME is ignored, as the
// specification says.
func DefaultStateDir(getenv func(string) string) (string, error) {
	if x := getenv("XDG_STATE_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "awskeep"), nil
	}
	home := getenv("HOME")
	if home == "" {
		return "", errors.New("rotate: neither XDG_STATE_HOME nor HOME is set, so there is nowhere to keep the rotation journal")
	}
	return filepath.Join(home, ".local", "state", "awskeep"), nil
}

// readJournal reads the journal at path; ok is false when there is none.
func readJournal(path string) (j *journal, ok bool, err error) {
	f, err := os.OpenFile(path, os.O_RDONLY|oNoFollow, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("rotation journal %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, false, fmt.Errorf("rotation journal %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o077 != 0 {
		return nil, false, fmt.Errorf("rotation journal %s is not a private regular file (mode %v): check who wrote it, then remove it", path, fi.Mode())
	}
	data, err := io.ReadAll(io.LimitReader(f, maxJournalSize+1))
	if err != nil {
		return nil, false, fmt.Errorf("rotation journal %s: %w", path, err)
	}
	j, err = decodeJournal(data)
	if err != nil {
		return nil, false, fmt.Errorf("rotation journal %s: %w; it records a rotation that did not finish: check the profile and the user's access keys (aws iam list-access-keys), then remove the file", path, err)
	}
	return j, true, nil
}

// decodeJournal parses and checks a journal. Its errors quote nothing from data.
func decodeJournal(data []byte) (*journal, error) {
	if len(data) > maxJournalSize {
		return nil, errors.New("larger than a journal")
	}
	var j journal
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, errors.New("not a journal awskeep can read (malformed JSON or unknown fields)")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the journal")
	}
	return &j, j.check()
}

// check says what is wrong with a decoded journal.
func (j *journal) check() error {
	switch {
	case j.Version != journalVersion:
		return fmt.Errorf("format version %d, want %d (written by another awskeep?)", j.Version, journalVersion)
	case !slices.Contains(Steps, j.Step):
		return errors.New("unknown step")
	case j.Profile == "" || j.ConfigFile == "":
		return errors.New("no profile")
	case !accessKeyID(j.OldAccessKeyID):
		return errors.New("no valid old access key id")
	case j.NewAccessKeyID != "" && !accessKeyID(j.NewAccessKeyID):
		return errors.New("invalid new access key id")
	case j.Step != StepBegun && j.NewAccessKeyID == "":
		return errors.New("a step after begun without the new access key id")
	}
	for _, k := range j.KeysBefore {
		if !accessKeyID(k) {
			return errors.New("invalid access key id among the keys before")
		}
	}
	for _, s := range []string{j.OldKey, j.NewKey} {
		u, err := keyuri.Parse(s)
		if err != nil {
			return errors.New("a key URI that does not parse")
		}
		if u.String() != u.WithoutSecrets().String() {
			return errors.New("a key URI with a PIN source or value (a journal never holds one)")
		}
	}
	return nil
}

// accessKeyID: 16 to 128 upper-case letters and digits (IAM AccessKey.AccessKeyId).
func accessKeyID(s string) bool {
	if len(s) < 16 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// writeJournal replaces the journal atomically (temporary file 0600, fsync, rename, fsync
// of the directory), so that a crash leaves the old record or the new one.
func writeJournal(path string, j *journal) error {
	data, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".rotate-*.tmp")
	if err != nil {
		return fmt.Errorf("rotation journal: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename there is nothing to remove
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("rotation journal: %w", err)
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("rotation journal: write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("rotation journal: sync: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("rotation journal: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rotation journal: %w", err)
	}
	syncDir(dir)
	return nil
}

// removeJournal removes a finished rotation's journal.
func removeJournal(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("rotation journal: %w", err)
	}
	syncDir(filepath.Dir(path))
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync() // durability only
		d.Close()
	}
}

// ensureStateDir creates dir 0700 and refuses one open to others.
func ensureStateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("rotate: state directory: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("rotate: state directory: %w", err)
	}
	if !fi.IsDir() || fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("rotate: state directory %s is writable by others (mode %v): chmod 700 %s", dir, fi.Mode().Perm(), dir)
	}
	return nil
}
