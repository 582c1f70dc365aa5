package cache

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/creds"
)

// renderJSON stands in for credproc.Marshal, which imports this package's users.
func renderJSON(cr creds.Credentials) ([]byte, error) {
	return json.Marshal(map[string]string{"AccessKeyId": cr.AccessKeyID, "SecretAccessKey": cr.SecretAccessKey})
}

const testAnswerName = "0123456789abcdef"

func putTestAnswer(t *testing.T, c *Cache, k Key, inputs string) {
	t.Helper()
	if err := c.PutAnswer(testAnswerName, []byte(inputs), k, renderJSON); err != nil {
		t.Fatalf("PutAnswer: %v", err)
	}
}

// TestAnswer: an answer is read back for equal inputs only, while its entry is the file it
// was rendered from and fresh, and the file is private.
func TestAnswer(t *testing.T) {
	ctx := context.Background()
	k := testKey()
	setup := func(t *testing.T, optFns ...func(*Options)) *Cache {
		c, _ := testCache(t, optFns...)
		if err := c.Put(ctx, k, testCreds(testNow.Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
		putTestAnswer(t, c, k, "inputs")
		return c
	}
	want, _ := renderJSON(testCreds(testNow.Add(time.Hour)))

	t.Run("hit", func(t *testing.T) {
		c := setup(t)
		got, ok := c.ReadAnswer(testAnswerName, []byte("inputs"))
		if !ok || !bytes.Equal(got, want) {
			t.Fatalf("ReadAnswer = %q, %v; want %q", got, ok, want)
		}
		fi, err := os.Stat(c.answerPath(testAnswerName))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("answer file mode: %v, %v", fi.Mode(), err)
		}
	})
	t.Run("other inputs", func(t *testing.T) {
		c := setup(t)
		for _, in := range []string{"input", "inputs!", "", "INPUTS"} {
			if _, ok := c.ReadAnswer(testAnswerName, []byte(in)); ok {
				t.Errorf("inputs %q were answered", in)
			}
		}
	})
	t.Run("entry replaced", func(t *testing.T) {
		c := setup(t)
		if err := c.Put(ctx, k, testCreds(testNow.Add(2*time.Hour))); err != nil {
			t.Fatal(err)
		}
		if _, ok := c.ReadAnswer(testAnswerName, []byte("inputs")); ok {
			t.Fatal("an answer of a replaced entry was used")
		}
	})
	t.Run("entry removed", func(t *testing.T) {
		c := setup(t)
		if err := os.Remove(c.entryPath(k.id())); err != nil {
			t.Fatal(err)
		}
		if _, ok := c.ReadAnswer(testAnswerName, []byte("inputs")); ok {
			t.Fatal("an answer without its entry was used")
		}
	})
	t.Run("too little lifetime", func(t *testing.T) {
		c := setup(t)
		later, _ := testCache(t, func(o *Options) {
			o.Dir = c.Dir()
			o.Now = func() time.Time { return testNow.Add(45 * time.Minute) }
		})
		if _, ok := later.ReadAnswer(testAnswerName, []byte("inputs")); ok {
			t.Fatal("an answer with 15 minutes left was used")
		}
	})
	t.Run("loose mode", func(t *testing.T) {
		c := setup(t)
		if err := os.Chmod(c.answerPath(testAnswerName), 0o640); err != nil {
			t.Fatal(err)
		}
		if _, ok := c.ReadAnswer(testAnswerName, []byte("inputs")); ok {
			t.Fatal("an answer readable by the group was used")
		}
	})
	t.Run("symlink", func(t *testing.T) {
		c := setup(t)
		p := c.answerPath(testAnswerName)
		if err := os.Rename(p, p+".real"); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(p+".real", p); err != nil {
			t.Fatal(err)
		}
		if _, ok := c.ReadAnswer(testAnswerName, []byte("inputs")); ok {
			t.Fatal("an answer behind a symbolic link was used")
		}
	})
	t.Run("cleared", func(t *testing.T) {
		c := setup(t)
		if err := c.Clear(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(c.answerPath(testAnswerName)); err == nil {
			t.Fatal("Clear left the answer file")
		}
	})
	t.Run("unchanged answer not rewritten", func(t *testing.T) {
		c := setup(t)
		before, _ := os.Stat(c.answerPath(testAnswerName))
		putTestAnswer(t, c, k, "inputs")
		after, _ := os.Stat(c.answerPath(testAnswerName))
		if !os.SameFile(before, after) {
			t.Fatal("an unchanged answer was written again")
		}
	})
	t.Run("no entry", func(t *testing.T) {
		c, _ := testCache(t)
		if err := c.PutAnswer(testAnswerName, []byte("inputs"), k, renderJSON); err == nil {
			t.Fatal("PutAnswer without an entry did not fail")
		}
		if err := c.PutAnswer("NOTHEX", []byte("inputs"), k, renderJSON); err == nil {
			t.Fatal("PutAnswer with a bad name did not fail")
		}
	})
}

func TestParseAnswerRefuses(t *testing.T) {
	id, dg := strings.Repeat("a", 64), strings.Repeat("0f", 16)
	for _, data := range []string{
		"",
		"awskeep-answer 1 10 " + id + " 1 2 3 4 " + dg + " 3\nou",
		"awskeep-answer 2 10 " + id + " 1 2 3 4 " + dg + " 3\nout",
		"awskeep-answer 1 010 " + id + " 1 2 3 4 " + dg + " 3\nout",
		"awskeep-answer 1 -10 " + id + " 1 2 3 4 " + dg + " 3\nout",
		"awskeep-answer 1 10 " + id + " 1 2 3 4 " + dg + "\nout",
		"awskeep-answer 1 10 " + id + "  1 2 3 4 " + dg + " 3\nout",
		"awskeep-answer 1 10 nothex 1 2 3 4 " + dg + " 3\nout",
		"awskeep-answer 1 10 " + id + " 1 2 3 4 " + strings.ToUpper(dg) + " 3\nout",
		"awskeep-answer 1 10 " + id + " 1 2 3 4 " + dg[2:] + " 3\nout",
		"awskeep-answer 1 99999999999999999999 " + id + " 1 2 3 4 " + dg + " 3\nout",
		"awskeep-answer 1 10 " + id + " 1 2 3 4 " + dg + " 3\nout!",
	} {
		if _, _, err := parseAnswer([]byte(data)); err == nil {
			t.Errorf("parseAnswer(%q) accepted it", data)
		}
	}
	h, body, err := parseAnswer([]byte("awskeep-answer 1 10 " + id + " 1 2 3 4 " + dg + " 3\nout"))
	if err != nil || h.notAfter != 10 || h.id != (fileID{1, 2, 3, 4}) || h.digest != dg || string(body) != "out" {
		t.Fatalf("parseAnswer = %+v, %q, %v", h, body, err)
	}
}

// TestAnswerHoldsNoInputs: the config file's bytes, which may hold secrets, are inputs but
// never written into an answer.
func TestAnswerHoldsNoInputs(t *testing.T) {
	c, _ := testCache(t)
	k := testKey()
	if err := c.Put(context.Background(), k, testCreds(testNow.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	inputs := []byte("[profile p]\naws_secret_access_key = CONFIGSECRETMARKER\n")
	putTestAnswer(t, c, k, string(inputs))
	data, err := os.ReadFile(c.answerPath(testAnswerName))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("CONFIGSECRETMARKER")) {
		t.Fatalf("the answer file holds the inputs:\n%s", data)
	}
	if _, ok := c.ReadAnswer(testAnswerName, inputs); !ok {
		t.Fatal("the answer was not read back for its inputs")
	}
}

// FuzzParseAnswer: any bytes give an error or a header whose lengths fit the body; the
// error text never holds input bytes.
func FuzzParseAnswer(f *testing.F) {
	id, dg := strings.Repeat("a", 64), strings.Repeat("0f", 16)
	f.Add([]byte("awskeep-answer 1 10 " + id + " 1 2 3 4 " + dg + " 3\nout"))
	f.Add([]byte("awskeep-answer 1 10 " + id + " 1 2 3 4 " + dg + " 0\n"))
	f.Add([]byte("awskeep-answer 1 \n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, body, err := parseAnswer(data)
		if err != nil {
			if strings.Contains(err.Error(), "SECRET") {
				t.Fatalf("error quotes the input: %v", err)
			}
			return
		}
		if h.answerLen != len(body) || !isID(h.entry) || len(h.digest) != 32 || h.notAfter < 0 {
			t.Fatalf("accepted an inconsistent header %+v for a body of %d bytes", h, len(body))
		}
	})
}
