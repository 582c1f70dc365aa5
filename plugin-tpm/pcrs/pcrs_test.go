package pcrs_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-tpm/tpm2"

	"github.com/awskeep/awskeep/plugin-tpm/pcrs"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in    string
		want  pcrs.Selection
		canon string
		desc  string
	}{
		{"sha256:7,23", pcrs.Selection{{tpm2.TPMAlgSHA256, []int{7, 23}}}, "", "PCRs 7, 23"},
		{"sha256:23", pcrs.Selection{{tpm2.TPMAlgSHA256, []int{23}}}, "", "PCR 23"},
		{"SHA256:23,0", pcrs.Selection{{tpm2.TPMAlgSHA256, []int{0, 23}}}, "sha256:0,23", "PCRs 0, 23"},
		{"sha1:0+sha256:7", pcrs.Selection{{tpm2.TPMAlgSHA1, []int{0}}, {tpm2.TPMAlgSHA256, []int{7}}}, "", "PCRs 0 (sha1); 7 (sha256)"},
		{"sha384:1+sha512:2", pcrs.Selection{{tpm2.TPMAlgSHA384, []int{1}}, {tpm2.TPMAlgSHA512, []int{2}}}, "", "PCRs 1 (sha384); 2 (sha512)"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := pcrs.Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Parse = %#v, want %#v", got, tt.want)
			}
			canon := tt.canon
			if canon == "" {
				canon = tt.in
			}
			if s := got.String(); s != canon {
				t.Fatalf("String = %q, want %q", s, canon)
			}
			if d := got.Describe(); d != tt.desc {
				t.Fatalf("Describe = %q, want %q", d, tt.desc)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "empty"},
		{"sha256", "no indices"},
		{"md5:1", "unknown PCR bank"},
		{"sha256:", "not a number"},
		{"sha256:24", "not a number from 0 to 23"},
		{"sha256:-1", "not a number"},
		{"sha256:07", "not a number"},
		{"sha256:+1", "not a number"},
		{"sha256:1,1", "more than once"},
		{"sha256:1+sha256:2", "more than once"},
		{"sha256:1,", "not a number"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := pcrs.Parse(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse(%q) error %v, want one mentioning %q", tt.in, err, tt.want)
			}
		})
	}
}

// TestTPML checks the bitmap layout against TPM 2.0 Part 2 section 10.6.1: PCR n is bit
// n%8 of octet n/8.
func TestTPML(t *testing.T) {
	sel, err := pcrs.Parse("sha256:0,7,8,23")
	if err != nil {
		t.Fatal(err)
	}
	l := sel.TPML()
	want := tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{
		{Hash: tpm2.TPMAlgSHA256, PCRSelect: []byte{0x81, 0x01, 0x80}},
	}}
	if !reflect.DeepEqual(l, want) {
		t.Fatalf("TPML = %#v, want %#v", l, want)
	}
	back, err := pcrs.FromTPML(l)
	if err != nil || !reflect.DeepEqual(back, sel) {
		t.Fatalf("FromTPML = %#v, %v", back, err)
	}
}

func TestFromTPMLErrors(t *testing.T) {
	tests := []struct {
		name string
		in   tpm2.TPMLPCRSelection
		want string
	}{
		{"empty", tpm2.TPMLPCRSelection{}, "empty"},
		{"no bits", tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{{Hash: tpm2.TPMAlgSHA256, PCRSelect: []byte{0, 0, 0}}}}, "empty"},
		{"pcr 24", tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{{Hash: tpm2.TPMAlgSHA256, PCRSelect: []byte{0, 0, 0, 1}}}}, "above 23"},
		{"unknown bank", tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{{Hash: tpm2.TPMAlgSM3256, PCRSelect: []byte{1, 0, 0}}}}, "unknown PCR bank"},
		{"repeated bank", tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{
			{Hash: tpm2.TPMAlgSHA256, PCRSelect: []byte{1, 0, 0}}, {Hash: tpm2.TPMAlgSHA256, PCRSelect: []byte{2, 0, 0}}}}, "more than once"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pcrs.FromTPML(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("FromTPML error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}
