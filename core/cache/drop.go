package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DropAccessKey removes every entry holding credentials obtained with the long-term access
// key accessKeyID, and every answer rendered from such an entry, and returns how many entries
// it removed. `awskeep rotate` calls it once the old key is retired: the cached
// credentials of a deleted or deactivated key would be handed out until they expire
// (AWS keeps temporary credentials valid after their key is deactivated), and an entry
// whose key no profile names is clutter.
//
// An entry is matched by the key stored inside it, so a file that cannot be read or
// trusted is left for Get to discard. Locks stay (removing a lock file races with its next
// user). A process that fetched with the old key just before may store its entry after
// DropAccessKey returns; rotation happens after the profile names the new key, so no new
// invocation fetches with the old one.
func (c *Cache) DropAccessKey(accessKeyID string) (int, error) {
	if accessKeyID == "" {
		return 0, errors.New("cache: drop entries: no access key id given")
	}
	ents, err := os.ReadDir(c.dir)
	if err != nil {
		return 0, fmt.Errorf("cache: drop entries of %s: %w", accessKeyID, err)
	}
	var errs []error
	dropped := 0
	droppedIDs := map[string]bool{}
	remove := func(path string) bool {
		err := os.Remove(path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			return false
		}
		return err == nil
	}
	for _, e := range ents {
		name := e.Name()
		path := filepath.Join(c.dir, name)
		if id, ok := strings.CutSuffix(name, ".json"); ok && isID(id) {
			if k, ok := c.entryKey(path); ok && k.AccessKeyID == accessKeyID {
				if remove(path) {
					dropped++
					droppedIDs[id] = true
					c.log.Debug("cache: dropped an entry of a retired access key", "entry", path)
				}
			}
		}
	}
	// Answers hold the credentials of their entry; one whose entry is gone is never printed,
	// but is removed so that the retired key's credentials leave the disk.
	for _, e := range ents {
		if name, ok := strings.CutSuffix(e.Name(), answerSuffix); ok && isAnswerName(name) {
			path := filepath.Join(c.dir, e.Name())
			if entry, ok := c.answerEntry(path); ok && droppedIDs[entry] {
				remove(path)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return dropped, fmt.Errorf("cache: drop entries of %s: %w", accessKeyID, err)
	}
	return dropped, nil
}

// entryKey returns the Key stored in the entry file at path, if the file can be trusted.
func (c *Cache) entryKey(path string) (Key, bool) {
	data, meta, err := readEntryFile(path, maxEntrySize)
	if err != nil || checkEntryFile(meta, c.uid) != nil {
		return Key{}, false
	}
	e, err := decodeEntry(data)
	if err != nil {
		return Key{}, false
	}
	return e.key, true
}

// answerEntry returns the id of the entry the answer file at path was rendered from.
func (c *Cache) answerEntry(path string) (string, bool) {
	data, meta, err := readEntryFile(path, maxAnswerSize)
	if err != nil || checkAnswerFile(meta, c.uid) != nil {
		return "", false
	}
	h, _, err := parseAnswer(data)
	return h.entry, err == nil
}
