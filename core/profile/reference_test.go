package profile

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestReferenceDescribesEveryKnownSetting keeps the configuration reference
// complete: one entry per KnownSettings key, in the same order, each with a
// description.
func TestReferenceDescribesEveryKnownSetting(t *testing.T) {
	var keys []string
	for _, d := range Reference {
		keys = append(keys, d.Key)
		if strings.TrimSpace(d.Text) == "" || strings.TrimSpace(d.Values) == "" {
			t.Errorf("Reference entry %s has no description or no values", d.Key)
		}
	}
	if !slices.Equal(keys, KnownSettings) {
		t.Fatalf("Reference keys differ from KnownSettings:\nreference: %v\nknown:     %v", keys, KnownSettings)
	}
}

// TestReferenceDescribesEverySettingRead reads the keys Profile.set handles
// from its source, so a standard setting that the parser starts to read
// cannot be left out of the reference either.
func TestReferenceDescribesEverySettingRead(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "settings.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var handled []string
	ast.Inspect(f, func(n ast.Node) bool {
		fn, ok := n.(*ast.FuncDecl)
		if !ok || fn.Name.Name != "set" {
			return true
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			cc, ok := n.(*ast.CaseClause)
			if !ok {
				return true
			}
			for _, e := range cc.List {
				if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					handled = append(handled, s)
				}
			}
			return true
		})
		return false
	})
	if len(handled) < len(KnownSettings) {
		t.Fatalf("found only %d keys in Profile.set: the test no longer reads settings.go right", len(handled))
	}
	documented := map[string]bool{}
	for _, d := range append(slices.Clone(Reference), StandardReference...) {
		if documented[d.Key] {
			t.Errorf("%s is described twice", d.Key)
		}
		documented[d.Key] = true
	}
	for _, k := range handled {
		if !documented[k] {
			t.Errorf("Profile.set reads %s but neither Reference nor StandardReference describes it", k)
		}
	}
	for _, d := range StandardReference {
		if !slices.Contains(handled, d.Key) {
			t.Errorf("StandardReference describes %s, which Profile.set does not read", d.Key)
		}
	}
}
