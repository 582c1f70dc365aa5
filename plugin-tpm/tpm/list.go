package tpm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/go-tpm/tpm2"

	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

var _ plugins.KeyLister = (*Backend)(nil)

// maxListedFiles bounds the directory entries ListKeys looks at.
const maxListedFiles = 4096

// tss2PEMHeader starts every TSS2 PEM key file (draft-bottomley-tpm2-keys).
var tss2PEMHeader = []byte("-----BEGIN TSS2 PRIVATE KEY-----")

// ListKeys lists awskeep keys: HMAC-SHA256 keyed-hash objects that cannot leave the TPM
// (fixedTPM and fixedParent), which is what ImportKey makes. The URI says where to look:
//
//	tpm: or tpm:handle=H            the TPM's persistent handles (TPM2_GetCapability,
//	                                TPM_CAP_HANDLES, TPM 2.0 Part 3 section 30.2), on device=
//	tpm:dir=/etc/awskeep            the TSS2 PEM key files in that directory (not its
//	                                subdirectories), whatever their names
//	tpm:file=/etc/awskeep/k.pem     the key files in that file's directory
//
// Listing reads only public areas, so it needs no password, and key files need no TPM at
// all (whether a file's key loads is up to the TPM that made it). A key file's Created is its
// modification time, which ImportKey sets; a TPM records no dates for its objects. Entry
// URIs carry the request's device=; pcrs= names one key's policy and is not copied: a key
// whose Attributes say auth=policy needs the pcrs= it was imported with.
func (b *Backend) ListKeys(ctx context.Context, key plugins.Key) ([]plugins.KeyEntry, error) {
	u, err := keyuri.ParseDeviceFor("tpm", key.URI)
	if err != nil {
		return nil, fmt.Errorf("tpm: %w", err)
	}
	dev := b.opts.DefaultDevice
	if v, ok := u.QueryAttr("device"); ok && v != "" {
		dev = v
	}
	query := slices.DeleteFunc(slices.Clone(u.WithoutSecrets().Query), func(a keyuri.Attr) bool { return a.Name == "pcrs" })
	if dir, ok := u.PathAttr("dir"); ok {
		return listFiles(ctx, dir, query)
	}
	if file, ok := u.PathAttr("file"); ok {
		return listFiles(ctx, filepath.Dir(file), query)
	}
	var entries []plugins.KeyEntry
	err = b.withDevice(ctx, dev, func(d *device) error {
		entries, err = d.listHandles(ctx, query)
		return err
	})
	return entries, err
}

// listHandles reads the public area of every persistent handle and keeps the HMAC keys.
func (d *device) listHandles(ctx context.Context, query []keyuri.Attr) ([]plugins.KeyEntry, error) {
	handles, err := d.persistentHandles()
	if err != nil {
		return nil, err
	}
	var entries []plugins.KeyEntry
	for _, h := range handles {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		pub, name, found, err := d.readPublic(h)
		if err != nil {
			return nil, err
		}
		if !found || !isAwskeepKey(pub) {
			continue
		}
		ref := &keyRef{handle: h, device: d.name}
		desc := describe(ref, pub, name, nil, d.name)
		// A persistent object has no label: its handle, in the URI, is its name.
		entries = append(entries, plugins.KeyEntry{
			URI:        entryURI("handle", fmt.Sprintf("0x%08x", uint32(h)), query),
			Attributes: desc.Attributes,
		})
	}
	return entries, nil
}

// persistentHandles asks the TPM for its persistent handles, in the order it gives them
// (ascending, Part 3 section 30.2), page by page while it says there are more.
func (d *device) persistentHandles() ([]tpm2.TPMHandle, error) {
	var all []tpm2.TPMHandle
	next := uint32(tpm2.TPMHTPersistent) << 24
	for {
		rsp, err := tpm2.GetCapability{Capability: tpm2.TPMCapHandles, Property: next, PropertyCount: 64}.Execute(d.tpm)
		if err != nil {
			return nil, d.deviceError("list persistent handles (TPM2_GetCapability)", err)
		}
		hl, err := rsp.CapabilityData.Data.Handles()
		if err != nil {
			return nil, errorf("list persistent handles: %v: %w", err, plugins.ErrDevice)
		}
		for _, h := range hl.Handle {
			if uint32(h)>>24 != uint32(tpm2.TPMHTPersistent) {
				return all, nil // past the persistent range
			}
			all = append(all, h)
		}
		if !rsp.MoreData || len(hl.Handle) == 0 {
			return all, nil
		}
		next = uint32(hl.Handle[len(hl.Handle)-1]) + 1
	}
}

// isAwskeepKey reports whether pub is a key ImportKey could have made: an HMAC-SHA256 key
// bound to this TPM and its parent.
func isAwskeepKey(pub *tpm2.TPMTPublic) bool {
	return isHMACKey(pub) && pub.ObjectAttributes.FixedTPM && pub.ObjectAttributes.FixedParent
}

// listFiles lists the TSS2 PEM key files in dir that hold awskeep keys, by name.
func listFiles(ctx context.Context, dir string, query []keyuri.Attr) ([]plugins.KeyEntry, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, errorf("list key files in %s: %v: %w", dir, err, plugins.ErrInvalidKeyURI)
	}
	f, err := os.Open(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errorf("list key files: no directory %s: %w", abs, plugins.ErrKeyNotFound)
	}
	if err != nil {
		return nil, keyFileError(&keyRef{file: abs}, err)
	}
	defer f.Close()
	names, err := f.Readdirnames(maxListedFiles)
	if err != nil && err != io.EOF {
		return nil, keyFileError(&keyRef{file: abs}, err)
	}
	slices.Sort(names)
	var entries []plugins.KeyEntry
	for _, n := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Dot files include ImportKey's temporary files, mid-write.
		if strings.HasPrefix(n, ".") {
			continue
		}
		if e, ok := keyFileEntry(filepath.Join(abs, n), query); ok {
			entries = append(entries, e)
		}
	}
	return entries, nil
}

// keyFileEntry describes the key file at path, if it is a TSS2 PEM loadable key holding an
// awskeep key. Anything else in the directory (other files, unreadable ones, other keys) is
// not an awskeep key and is passed over.
func keyFileEntry(path string, query []keyuri.Attr) (plugins.KeyEntry, bool) {
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > maxKeyFileSize {
		return plugins.KeyEntry{}, false
	}
	if !hasTSS2Header(path) {
		return plugins.KeyEntry{}, false
	}
	ref := &keyRef{file: path}
	tk, err := readKeyFile(ref)
	if err != nil || tk == nil {
		return plugins.KeyEntry{}, false
	}
	pub, err := tk.Pubkey.Contents()
	if err != nil || !isAwskeepKey(pub) {
		return plugins.KeyEntry{}, false
	}
	name, err := tpm2.ObjectName(pub)
	if err != nil {
		return plugins.KeyEntry{}, false
	}
	var policy *keyPolicy
	if !pub.ObjectAttributes.UserWithAuth {
		// The file records the PCRs of its policy; without them the entry says "policy".
		if p, err := filePolicy(ref, tk); err == nil {
			policy = p
		}
	}
	desc := describe(ref, pub, *name, policy, "")
	return plugins.KeyEntry{
		URI:        entryURI("file", path, query),
		Label:      filepath.Base(path),
		Created:    fi.ModTime().UTC().Truncate(time.Second),
		Attributes: desc.Attributes,
	}, true
}

// hasTSS2Header reports whether the file at path starts like a TSS2 PEM key file, so that
// other files in a directory are not parsed at all.
func hasTSS2Header(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, len(tss2PEMHeader))
	_, err = io.ReadFull(f, head)
	return err == nil && bytes.Equal(head, tss2PEMHeader)
}

// entryURI is tpm:NAME=VALUE with query.
func entryURI(name, value string, query []keyuri.Attr) string {
	return (&keyuri.URI{Scheme: "tpm", Path: []keyuri.Attr{{Name: name, Value: value}}, Query: query}).String()
}
