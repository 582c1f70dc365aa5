package pkcs11backend

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Replacing a key (ImportKey with Overwrite) is a sequence of PKCS#11 calls, and PKCS#11 has
// no transactions: a crash, a kill or a token that stops answering can end it after any
// call. Each call changes whether one object matches the URI, so going from the old key to
// the new one must pass through a moment in which either both match or neither does.
// awskeep chooses neither, never both, and keeps the new key findable in that moment:
//
//  1. create:  C_CreateObject of the new key under the pending label (see tempLabel),
//     which no URI selects;
//  2. check:   one CKM_SHA256_HMAC with it, as a plain import does;
//  3. commit:  C_SetAttributeValue of CKA_LABEL to the committed label: the new key is
//     proven usable and meant to replace the old one;
//  4. destroy: C_DestroyObject of the old key (of each, if a URI matched several);
//  5. rename:  C_SetAttributeValue of CKA_LABEL (and CKA_ID) to the URI's.
//
// Stopped after step 1, 2 or 3, the URI names the old key and a temporary object is left
// over; the next import removes it. Stopped after step 4, no key matches, and the committed
// key is put in place (step 5) by the next operation on the URI that finds no key: it was
// checked, and the old one is gone on purpose. So after any interruption the URI names
// exactly one key, the old or the new.
const (
	// tempPrefix starts the label of every object awskeep creates for a replacement.
	tempPrefix = "awskeep-tmp-"
	// pendingTag and committedTag follow tempPrefix: before and after step 3.
	pendingTag   = "pending:"
	committedTag = "committed:"
)

// finishTimeout bounds the steps of a replacement that still may be undone (before the
// commit), once the new key exists. They run on their own context, not the request's: a
// host that gives up must not leave the sequence halfway. After the commit the sequence
// always runs to its end.
const finishTimeout = 10 * time.Second

// target names what the URI selects, for temporary labels: "object=prod", "id=01fe" or
// "object=prod;id=01fe" (RFC 7512 path attribute names, the id in hex).
func (s *selector) target() string {
	var parts []string
	if s.hasLabel {
		parts = append(parts, "object="+s.label)
	}
	if s.hasID {
		parts = append(parts, "id="+hexID(s.id))
	}
	return strings.Join(parts, ";")
}

// tempLabel is the CKA_LABEL of a replacement key for s before (committed false) or after
// (committed true) its commit. It is one fixed name per key, so that leftovers are found
// with one C_FindObjects, without reading the label of every key on the token.
func (s *selector) tempLabel(committed bool) string {
	if committed {
		return tempPrefix + committedTag + s.target()
	}
	return tempPrefix + pendingTag + s.target()
}

// reservedLabel reports whether a URI's object= would collide with awskeep's temporary
// labels.
func (s *selector) reservedLabel() bool {
	return s.hasLabel && strings.HasPrefix(s.label, tempPrefix)
}

// importStep names a step of a replacement (see the list above), for tests that stop the
// sequence after it.
type importStep string

const (
	stepCreate  importStep = "create"
	stepCheck   importStep = "check"
	stepCommit  importStep = "commit"
	stepDestroy importStep = "destroy"
	stepRename  importStep = "rename"
)

// importSteps lists the steps in order.
var importSteps = []importStep{stepCreate, stepCheck, stepCommit, stepDestroy, stepRename}

// errInterrupted is what a replacement returns when a test stopped it (Backend.interrupt).
var errInterrupted = fmt.Errorf("pkcs11: import interrupted by a test")

// inflight counts replacements under way, so that Close can let them finish.
type inflight struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to 0
}

func (f *inflight) begin() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 {
		f.idle = make(chan struct{})
	}
	f.n++
}

func (f *inflight) end() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n--
	if f.n == 0 {
		close(f.idle)
	}
}

// wait returns when no replacement is under way, or with ctx's error.
func (f *inflight) wait(ctx context.Context) error {
	f.mu.Lock()
	if f.n == 0 {
		f.mu.Unlock()
		return nil
	}
	idle := f.idle
	f.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
