package configref

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/core/profile"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// TestDocsProfilesParse reads every ```ini block of the getting-started and migration
// guides and parses each profile in it as awskeep does: a misspelt awskeep_* key, a bad
// duration or a key URI awskeep would refuse in a guide fails here. (The guides' sh blocks
// run in cmd/e2e's TestGuide*.)
func TestDocsProfilesParse(t *testing.T) {
	docs, err := filepath.Glob("../../../docs/getting-started-*.md")
	if err != nil {
		t.Fatal(err)
	}
	docs = append(docs, "../../../docs/migrating.md")
	if len(docs) < 5 {
		t.Fatalf("found only %v", docs)
	}
	block := regexp.MustCompile("(?ms)^```ini[^\\n]*\\n(.*?)^```")
	profiles := 0
	for _, doc := range docs {
		data, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range block.FindAllStringSubmatch(string(data), -1) {
			ini := []byte(m[1])
			for _, name := range profile.Names(ini) {
				p, err := profile.Parse(ini, doc, name)
				if err != nil {
					t.Errorf("%s: [profile %s]: %v", filepath.Base(doc), name, err)
					continue
				}
				profiles++
				if p.Key != "" {
					if _, err := keyuri.Parse(p.Key); err != nil && !strings.HasPrefix(p.Key, "vault:") && !strings.HasPrefix(p.Key, "tink:") {
						t.Errorf("%s: [profile %s]: awskeep_key: %v", filepath.Base(doc), name, err)
					}
				}
			}
		}
	}
	if profiles < 3 {
		t.Fatalf("parsed only %d profiles in %v", profiles, docs)
	}
}
