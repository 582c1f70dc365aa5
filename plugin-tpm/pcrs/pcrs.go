// Package pcrs parses and prints the PCR selections of tpm: key URIs, e.g.
// pcrs=sha256:7,23 or pcrs=sha1:0,7+sha256:7, the notation of tpm2-tools (tpm2_pcrread).
//
// A key imported with a PCR selection can only be used while those PCRs hold the values
// they had at import (TPM 2.0 Part 3 section 23.7, TPM2_PolicyPCR). The TPM backend uses
// this package to turn the URI attribute into a TPML_PCR_SELECTION and back.
package pcrs

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/google/go-tpm/tpm2"
)

// MaxPCR is the highest PCR index accepted. PC Client TPMs have 24 PCRs (TCG PC Client
// Platform TPM Profile, section 4.6.1), selected by a 3-byte bitmap.
const MaxPCR = 23

// Bank is a set of PCRs of one hash algorithm.
type Bank struct {
	// Hash is the bank's algorithm, e.g. tpm2.TPMAlgSHA256.
	Hash tpm2.TPMIAlgHash
	// PCRs holds the selected indices in ascending order, without repeats.
	PCRs []int
}

// Selection is a PCR selection: one or more banks, each named once.
type Selection []Bank

var bankNames = []struct {
	name string
	alg  tpm2.TPMIAlgHash
}{
	{"sha1", tpm2.TPMAlgSHA1},
	{"sha256", tpm2.TPMAlgSHA256},
	{"sha384", tpm2.TPMAlgSHA384},
	{"sha512", tpm2.TPMAlgSHA512},
}

func algByName(name string) (tpm2.TPMIAlgHash, bool) {
	for _, b := range bankNames {
		if b.name == name {
			return b.alg, true
		}
	}
	return 0, false
}

func nameOfAlg(alg tpm2.TPMIAlgHash) string {
	for _, b := range bankNames {
		if b.alg == alg {
			return b.name
		}
	}
	return fmt.Sprintf("0x%04x", uint16(alg))
}

// Parse parses BANK:I,J,...[+BANK:I,...], where BANK is sha1, sha256, sha384 or sha512 and
// each index is a decimal number from 0 to MaxPCR. Banks and indices may each appear once.
func Parse(s string) (Selection, error) {
	if s == "" {
		return nil, errors.New("empty PCR selection (want e.g. sha256:7,23)")
	}
	var sel Selection
	for part := range strings.SplitSeq(s, "+") {
		name, list, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("PCR bank %q has no indices (want e.g. sha256:7,23)", short(part))
		}
		alg, ok := algByName(strings.ToLower(name))
		if !ok {
			return nil, fmt.Errorf("unknown PCR bank %q (known: sha1, sha256, sha384, sha512)", short(name))
		}
		if slices.ContainsFunc(sel, func(b Bank) bool { return b.Hash == alg }) {
			return nil, fmt.Errorf("PCR bank %s appears more than once", nameOfAlg(alg))
		}
		bank := Bank{Hash: alg}
		for idx := range strings.SplitSeq(list, ",") {
			n, err := strconv.Atoi(idx)
			if err != nil || n < 0 || n > MaxPCR || idx != strconv.Itoa(n) {
				return nil, fmt.Errorf("PCR index %q is not a number from 0 to %d", short(idx), MaxPCR)
			}
			if slices.Contains(bank.PCRs, n) {
				return nil, fmt.Errorf("PCR %d appears more than once in bank %s", n, nameOfAlg(alg))
			}
			bank.PCRs = append(bank.PCRs, n)
		}
		slices.Sort(bank.PCRs)
		sel = append(sel, bank)
	}
	return sel, nil
}

// String prints the selection in the form Parse reads, indices in ascending order.
func (s Selection) String() string {
	var b strings.Builder
	for i, bank := range s {
		if i > 0 {
			b.WriteByte('+')
		}
		b.WriteString(nameOfAlg(bank.Hash))
		b.WriteByte(':')
		for j, n := range bank.PCRs {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(n))
		}
	}
	return b.String()
}

// Describe names the PCRs for a person: "PCR 23" or "PCRs 7, 23", with the bank added when
// there is more than one.
func (s Selection) Describe() string {
	var parts []string
	count := 0
	for _, bank := range s {
		var idx []string
		for _, n := range bank.PCRs {
			idx = append(idx, strconv.Itoa(n))
			count++
		}
		p := strings.Join(idx, ", ")
		if len(s) > 1 {
			p += " (" + nameOfAlg(bank.Hash) + ")"
		}
		parts = append(parts, p)
	}
	if count == 1 {
		return "PCR " + parts[0]
	}
	return "PCRs " + strings.Join(parts, "; ")
}

// TPML returns the selection as a TPML_PCR_SELECTION (TPM 2.0 Part 2 section 10.9.7) with
// 3-byte bitmaps.
func (s Selection) TPML() tpm2.TPMLPCRSelection {
	var l tpm2.TPMLPCRSelection
	for _, bank := range s {
		bitmap := make([]byte, (MaxPCR+8)/8)
		for _, n := range bank.PCRs {
			bitmap[n/8] |= 1 << (n % 8)
		}
		l.PCRSelections = append(l.PCRSelections, tpm2.TPMSPCRSelection{Hash: bank.Hash, PCRSelect: bitmap})
	}
	return l
}

// FromTPML converts a TPML_PCR_SELECTION, e.g. one read from a key file, back into a
// Selection. It fails for banks this package cannot name and for PCRs above MaxPCR.
func FromTPML(l tpm2.TPMLPCRSelection) (Selection, error) {
	var sel Selection
	for _, ps := range l.PCRSelections {
		if _, ok := algByName(nameOfAlg(ps.Hash)); !ok {
			return nil, fmt.Errorf("unknown PCR bank %s", nameOfAlg(ps.Hash))
		}
		if slices.ContainsFunc(sel, func(b Bank) bool { return b.Hash == ps.Hash }) {
			return nil, fmt.Errorf("PCR bank %s appears more than once", nameOfAlg(ps.Hash))
		}
		bank := Bank{Hash: ps.Hash}
		for i, octet := range ps.PCRSelect {
			for bit := range 8 {
				if octet&(1<<bit) == 0 {
					continue
				}
				n := i*8 + bit
				if n > MaxPCR {
					return nil, fmt.Errorf("PCR %d is above %d", n, MaxPCR)
				}
				bank.PCRs = append(bank.PCRs, n)
			}
		}
		if len(bank.PCRs) == 0 {
			continue
		}
		sel = append(sel, bank)
	}
	if len(sel) == 0 {
		return nil, errors.New("empty PCR selection")
	}
	return sel, nil
}

func short(s string) string {
	if len(s) > 20 {
		return s[:20] + "..."
	}
	return s
}
