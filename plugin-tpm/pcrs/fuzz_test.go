package pcrs_test

import (
	"reflect"
	"testing"

	"github.com/awskeep/awskeep/plugin-tpm/pcrs"
)

// FuzzParse checks that whatever Parse accepts prints to a string that parses back to the
// same selection, that printing is a fixed point, and that the TPML form converts back.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"sha256:7,23", "sha1:0+sha256:7", "sha512:23,0,1", "SHA384:9", "sha256:1,1", "sha256:24", "sha256:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sel, err := pcrs.Parse(s)
		if err != nil {
			return
		}
		printed := sel.String()
		back, err := pcrs.Parse(printed)
		if err != nil {
			t.Fatalf("Parse(String()) of %q: %q: %v", s, printed, err)
		}
		if !reflect.DeepEqual(back, sel) {
			t.Fatalf("round trip of %q: %#v then %#v", s, sel, back)
		}
		if again := back.String(); again != printed {
			t.Fatalf("String not a fixed point: %q then %q", printed, again)
		}
		fromTPML, err := pcrs.FromTPML(sel.TPML())
		if err != nil || !reflect.DeepEqual(fromTPML, sel) {
			t.Fatalf("FromTPML(TPML()) of %q = %#v, %v", s, fromTPML, err)
		}
	})
}
