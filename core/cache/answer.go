package cache

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/awskeep/awskeep/core/creds"
)

// Answers let awskeep's front print a cache hit without parsing anything but one line.
//
// The front (cmd/cfront on Linux, a static C program; cmd/awskeep elsewhere) answers
// `awskeep credential-process --profile P` without resolving settings, which takes the
// profile parser, the engine and the AWS SDK. So the full program, once it has answered an
// invocation, leaves an answer file: the exact bytes it printed, a digest of the
// invocation's inputs (package core/fastpath serializes them: the arguments, the
// environment variables settings are read from, the config file's bytes, the user and the
// full program's file identity) and the identity of the cache entry the answer was
// rendered from. The front serializes its own inputs, and prints the answer only if
//
//   - the answer file is a regular file, not a symbolic link, owned by the user and private
//     to them, like an entry;
//   - the digest of its inputs is the one stored;
//   - the entry file it names is still the very file it was rendered from (device, inode,
//     size and modification time), owned by the user and private: an entry replaced,
//     removed by `awskeep cache clear` or dropped by rotation orphans its answers;
//   - the credentials have more than the cache's minimum lifetime left (NOT-AFTER).
//
// The inputs themselves are not stored: the config file they include may hold secrets
// (an aws_secret_access_key, a key URI's pin-value). The digest is FNV-1a 128 (hash/fnv),
// which the C front computes without a cryptographic library: it tells inputs apart (an
// accidental match is a 2^-128 chance) but is no defence against someone crafting a config
// file, who could change the settings themselves. Its confidentiality does not matter
// either: the file holds the credentials it stands next to.
//
// The layout, version 1, is one header line of ASCII fields separated by single spaces,
// then the answer, and nothing else:
//
//	awskeep-answer 1 NOT-AFTER ENTRY DEV INO SIZE MTIME-NS INPUTS-DIGEST ANSWER-LEN\n
//
// NOT-AFTER is the Unix time (seconds) from which the answer must not be used, ENTRY the
// entry's 64-hex id, DEV INO SIZE MTIME-NS its file's identity, all decimal without
// leading zeros, INPUTS-DIGEST 32 lower-case hex digits. An answer file holds credentials:
// it is written as entries are (0600, atomically) and removed with them.

const (
	answerSuffix  = ".answer"
	answerMagic   = "awskeep-answer"
	answerVersion = 1
	maxAnswerSize = maxEntrySize + 512
)

// answerHeader is the parsed header line of an answer file.
type answerHeader struct {
	notAfter  int64
	entry     string
	id        fileID
	digest    string
	answerLen int
}

// fileID is what tells one file from its replacement.
type fileID struct {
	dev, ino uint64
	size     int64
	mtimeNS  int64
}

// inputsDigest is the digest of inputs an answer stores (see above).
func inputsDigest(inputs []byte) string {
	h := fnv.New128a()
	h.Write(inputs)
	return hex.EncodeToString(h.Sum(nil))
}

func (c *Cache) answerPath(name string) string {
	return filepath.Join(c.dir, name+answerSuffix)
}

// isAnswerName reports whether s is a name package fastpath gives inputs: 16 lower-case
// hex digits.
func isAnswerName(s string) bool {
	return len(s) == 16 && strings.Trim(s, "0123456789abcdef") == ""
}

// PutAnswer records, under name, the answer render gives for k's entry as it is on disk
// now, for the front invocations whose serialized inputs have the digest of inputs (see
// the comment on answers above). It renders from the entry file it reads, so the answer and the entry
// identity it carries always agree, and writes only when the file would change, so the
// usual call costs two reads. It fails when k has no usable entry.
func (c *Cache) PutAnswer(name string, inputs []byte, k Key, render func(creds.Credentials) ([]byte, error)) error {
	if !isAnswerName(name) {
		return errors.New("cache: an answer name is 16 lower-case hex digits")
	}
	if err := k.validate(); err != nil {
		return err
	}
	id := k.id()
	data, meta, fid, err := readEntryFileID(c.entryPath(id), maxEntrySize)
	if err != nil {
		return fmt.Errorf("cache: answer: read the entry: %w", err)
	}
	if err := checkEntryFile(meta, c.uid); err != nil {
		return fmt.Errorf("cache: answer: entry %s", err)
	}
	e, err := decodeEntry(data)
	if err != nil {
		return err
	}
	if e.key != k {
		return errors.New("cache: answer: the entry was written for a different key")
	}
	notAfter := e.cr.Expiration.Add(-c.minRemaining).Unix()
	if c.now().Unix() >= notAfter {
		return errors.New("cache: answer: the entry has too little lifetime left")
	}
	out, err := render(e.cr)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %d %d %s %d %d %d %d %s %d\n", answerMagic, answerVersion, notAfter, id,
		fid.dev, fid.ino, fid.size, fid.mtimeNS, inputsDigest(inputs), len(out))
	b.Write(out)
	path := c.answerPath(name)
	if old, meta, err := readEntryFile(path, maxAnswerSize); err == nil && checkEntryFile(meta, c.uid) == nil && bytes.Equal(old, b.Bytes()) {
		return nil
	}
	return c.writeAtomic(name, path, b.Bytes())
}

// ReadAnswer returns the answer recorded under name if it may be printed for inputs now
// (see the comment on answers above). It is what the C front does, in Go, for the Go front
// and for tests.
func (c *Cache) ReadAnswer(name string, inputs []byte) ([]byte, bool) {
	if !isAnswerName(name) {
		return nil, false
	}
	path := c.answerPath(name)
	data, meta, err := readEntryFile(path, maxAnswerSize)
	if err == nil {
		err = checkAnswerFile(meta, c.uid)
	}
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.log.Debug("cache: answer discarded", "answer", path, "reason", err.Error())
		}
		return nil, false
	}
	h, body, err := parseAnswer(data)
	if err != nil {
		c.log.Debug("cache: answer discarded", "answer", path, "reason", err.Error())
		return nil, false
	}
	if h.digest != inputsDigest(inputs) {
		return nil, false
	}
	if c.now().Unix() >= h.notAfter {
		return nil, false
	}
	fi, err := os.Lstat(c.entryPath(h.entry))
	if err != nil {
		return nil, false
	}
	m, ok := metaOf(fi)
	if !ok || checkEntryFile(m, c.uid) != nil || idOf(fi) != h.id {
		return nil, false
	}
	return body, true
}

// checkAnswerFile is checkEntryFile with an answer's size bound.
func checkAnswerFile(m fileMeta, uid int) error {
	if m.size > maxAnswerSize {
		return fmt.Errorf("larger than %d bytes", maxAnswerSize)
	}
	m.size = 0
	return checkEntryFile(m, uid)
}

// parseAnswer splits an answer file into its header and the answer that follows it. Its
// errors never contain text from data.
func parseAnswer(data []byte) (answerHeader, []byte, error) {
	nl := bytes.IndexByte(data, '\n')
	if nl < 0 || nl > 512 {
		return answerHeader{}, nil, corrupt("answer: no header line")
	}
	f := strings.Split(string(data[:nl]), " ")
	if len(f) != 10 || f[0] != answerMagic {
		return answerHeader{}, nil, corrupt("answer: not an answer header")
	}
	if f[1] != strconv.Itoa(answerVersion) {
		return answerHeader{}, nil, corrupt("answer: format version is not %d", answerVersion)
	}
	var nums [6]uint64
	for i, s := range []string{f[2], f[4], f[5], f[6], f[7], f[9]} {
		n, ok := decimal(s)
		if !ok {
			return answerHeader{}, nil, corrupt("answer: header field %d is not a decimal number", i+1)
		}
		nums[i] = n
	}
	if !isID(f[3]) {
		return answerHeader{}, nil, corrupt("answer: no entry id")
	}
	if len(f[8]) != 32 || strings.Trim(f[8], "0123456789abcdef") != "" {
		return answerHeader{}, nil, corrupt("answer: no inputs digest")
	}
	h := answerHeader{
		notAfter:  int64(nums[0]),
		entry:     f[3],
		id:        fileID{dev: nums[1], ino: nums[2], size: int64(nums[3]), mtimeNS: int64(nums[4])},
		digest:    f[8],
		answerLen: int(nums[5]),
	}
	body := data[nl+1:]
	if nums[5] > maxEntrySize || uint64(len(body)) != nums[5] {
		return answerHeader{}, nil, corrupt("answer: length does not match the file")
	}
	return h, body, nil
}

// decimal parses a non-negative decimal number below 2^63 without sign or leading zeros,
// as the C front does.
func decimal(s string) (uint64, bool) {
	if s == "" || len(s) > 19 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + uint64(s[i]-'0')
	}
	return n, n < 1<<63
}
