package configref

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestEnvListsEveryAWSKEEPVariable scans the Go source of every product module (tests,
// test helpers and testdata excluded) for "AWSKEEP_..." string literals and fails on a
// name that Env does not describe and internalEnv does not explain. AWSKEEP_TEST_* names
// are test hooks (built only with test build tags) and are left out.
func TestEnvListsEveryAWSKEEPVariable(t *testing.T) {
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, v := range Env {
		if listed[v.Name] {
			t.Errorf("%s is listed twice", v.Name)
		}
		listed[v.Name] = true
	}
	lit := regexp.MustCompile(`"(AWSKEEP_[A-Z0-9_]*[A-Z0-9])"`)
	found := map[string]string{}
	for _, mod := range []string{"plugins", "core", "plugin-softhsm", "plugin-yubihsm", "plugin-tpm", "plugin-tink", "plugin-vault", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, mod), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if d.IsDir() {
				// Test helpers (mototest, softhsmtest, conformance kits), fixtures,
				// benchmarks and fault injection are not the product.
				if name == "testdata" || strings.HasSuffix(name, "test") || name == "bench" ||
					name == "faultmodule" || name == "conformance" || name == "e2e" {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
				return nil
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range lit.FindAllStringSubmatch(string(src), -1) {
				found[m[1]] = path
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(found) < 5 {
		t.Fatalf("found only %d AWSKEEP_* names under %s: the scan is broken", len(found), root)
	}
	for name, path := range found {
		if strings.HasPrefix(name, "AWSKEEP_TEST_") {
			continue
		}
		if !listed[name] && internalEnv[name] == "" {
			t.Errorf("%s (read in %s) is not in configref.Env: describe it there, or in internalEnv if users never set it", name, path)
		}
	}
	for name := range internalEnv {
		if listed[name] {
			t.Errorf("%s is both in Env and internalEnv", name)
		}
	}
}
