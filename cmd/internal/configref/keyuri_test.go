package configref

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// TestSchemesMatchRegisteredSchemas reads the keyuri schemas the backends register (their
// register and keyuri.Register calls, from source: the host does not link the backends)
// and checks that Schemes documents exactly their attributes, path and query alike.
func TestSchemesMatchRegisteredSchemas(t *testing.T) {
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	registered := map[string]map[string]bool{} // scheme -> "path:NAME" / "query:NAME"
	for _, file := range []string{"plugins/keyuri/schema.go", "plugin-tink/backend/uri.go", "plugin-vault/backend/uri.go"} {
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, filepath.Join(root, file), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		consts := map[string]string{}
		for _, name := range []string{"Scheme"} {
			if obj := f.Scope.Lookup(name); obj != nil {
				if vs, ok := obj.Decl.(*ast.ValueSpec); ok && len(vs.Values) == 1 {
					consts[name] = stringLit(t, vs.Values[0])
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) < 2 {
				return true
			}
			var fn string
			switch c := call.Fun.(type) {
			case *ast.Ident:
				fn = c.Name
			case *ast.SelectorExpr:
				fn = c.Sel.Name
			}
			if fn != "register" && fn != "Register" {
				return true
			}
			scheme := stringLit(t, call.Args[0])
			if id, ok := call.Args[0].(*ast.Ident); ok {
				scheme = consts[id.Name]
			}
			lit, ok := call.Args[len(call.Args)-1].(*ast.CompositeLit)
			if !ok || scheme == "" {
				// Register passing its arguments on to register; the count below
				// catches a registration this reading misses.
				return true
			}
			attrs := map[string]bool{}
			for _, e := range lit.Elts {
				kv := e.(*ast.KeyValueExpr)
				field := kv.Key.(*ast.Ident).Name
				if field != "Path" && field != "Query" {
					continue
				}
				for _, v := range kv.Value.(*ast.CompositeLit).Elts {
					attrs[map[string]string{"Path": "path:", "Query": "query:"}[field]+stringLit(t, v)] = true
				}
			}
			registered[scheme] = attrs
			return true
		})
	}
	if len(registered) != len(Schemes) {
		t.Errorf("registered schemes %v, documented %d", keys(registered), len(Schemes))
	}
	for _, s := range Schemes {
		want, ok := registered[s.Name]
		if !ok {
			t.Errorf("scheme %s is documented but not registered", s.Name)
			continue
		}
		got := map[string]bool{}
		for _, a := range s.Attrs {
			k := "path:" + a.Name
			if a.Query {
				k = "query:" + a.Name
			}
			got[k] = true
		}
		for k := range want {
			if !got[k] {
				t.Errorf("%s: attribute %s is registered but not documented", s.Name, k)
			}
		}
		for k := range got {
			if !want[k] {
				t.Errorf("%s: attribute %s is documented but not registered", s.Name, k)
			}
		}
	}
}

func stringLit(t *testing.T, e ast.Expr) string {
	t.Helper()
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return ""
	}
	s, err := strconv.Unquote(lit.Value)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func keys(m map[string]map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
