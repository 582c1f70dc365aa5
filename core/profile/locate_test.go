package profile

import (
	"reflect"
	"testing"
)

func TestLocate(t *testing.T) {
	data := "\xEF\xBB\xBFtop = 1\n" + // 1
		"[profile p]\r\n" + // 2
		"# comment\n" + // 3
		"  Region = x\n" + // 4: indented, but the last value was not empty
		"empty =\n" + // 5
		"  nested = 1\n" + // 6
		"\n" + // 7: blank lines keep nesting
		"\tnested = 2\n" + // 8
		"multi = \"\"\"a\n" + // 9
		"[profile q]\n" + // 10: inside the quoted value
		"b\"\"\"\n" + // 11
		"`quoted key` = v\n" + // 12
		"- = auto\n" + // 13
		"[profile q]\n" + // 14
		"k = 1\n" + // 15
		"[profile p]\n" + // 16: the same section again
		"region = y\n" // 17
	idx, bad, reason := locate([]byte(data))
	if bad != 0 || reason != "" {
		t.Fatalf("locate: line %d %q", bad, reason)
	}
	want := index{
		"DEFAULT": {header: 0, keys: map[string]int{"top": 1}, nested: map[string][]int{}},
		"profile p": {header: 2, keys: map[string]int{
			"region": 17, "empty": 5, "multi": 9, "quoted key": 12, "#1": 13,
		}, nested: map[string][]int{"empty": {6, 8}}},
		"profile q": {header: 14, keys: map[string]int{"k": 15}, nested: map[string][]int{}},
	}
	if !reflect.DeepEqual(idx, want) {
		for name, l := range idx {
			t.Logf("%q: %+v", name, *l)
		}
		t.Errorf("locate differs from the expected index")
	}
}

func TestLocateErrors(t *testing.T) {
	tests := []struct {
		name   string
		data   string
		line   int
		reason string
	}{
		{"no delimiter", "[a]\nb = 1\nwords\n", 3, "line is neither [section], comment nor key = value"},
		{"empty key", "[a]\n= 1\n", 2, "empty key name before the = sign"},
		{"empty quoted key", "[a]\n\"\" = 1\n", 2, "empty key name"},
		{"unclosed key quote", "[a]\n\"k = 1\n", 2, "quoted key name is not closed"},
		{"unclosed section", "[a]\n[b\n", 2, "section header without a closing ]"},
		{"empty section", "\n\n[]\n", 3, "empty section name []"},
		{"unclosed value", "[a]\nk = `abc\nmore\n", 2, "quoted value (\"\"\" or `) is not closed"},
		{"nested after -", "[a]\n- =\n  x\n", 3, "indented line after a \"-\" key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := loadINI([]byte(tt.data)); err == nil {
				t.Fatal("ini.v1 accepts the data; the case tests nothing")
			}
			_, line, reason := locate([]byte(tt.data))
			if line != tt.line || reason != tt.reason {
				t.Errorf("locate = line %d %q, want %d %q", line, reason, tt.line, tt.reason)
			}
		})
	}
}
