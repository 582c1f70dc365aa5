package rotate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/awskeep/awskeep/core/credfile"
	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/devicekey"
	"github.com/awskeep/awskeep/core/sigv4"
	"github.com/awskeep/awskeep/core/sts"
	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// key is the device key whose path (object, handle, id) is that of uri, reached as the
// profile's key is (same module, connector, PIN).
func (r *run) key(uri string) (plugins.Key, error) {
	u, err := keyuri.Parse(uri)
	if err != nil {
		return plugins.Key{}, err
	}
	c := r.cur.Clone()
	c.Path = u.Path
	return plugins.Key{URI: c.WithoutSecrets().String(), PIN: r.d.Key.PIN}, nil
}

func (r *run) deriver(k plugins.Key) sigv4.Deriver {
	raw := devicekey.Deriver(r.d.Backend, k)
	return sigv4.DeriverFunc(func(ctx context.Context, date string) ([]byte, error) {
		mac, err := raw.DeriveDateKey(ctx, date)
		return mac, r.d.Explain("HMAC", err)
	})
}

// iamAs is IAM signed by access key id, whose secret is the device object of uri.
func (r *run) iamAs(id, uri string) (*iamAPI, error) {
	k, err := r.key(uri)
	if err != nil {
		return nil, err
	}
	return newIAM(r.deriver(k), id, r.s.Region, r.iamEndpoint, r.http), nil
}

// begin checks the old key against IAM, makes room for a new key if allowed, chooses the
// new object and writes the journal. Nothing has changed when it fails, except for an
// inactive key --delete-inactive deleted.
func (r *run) begin(ctx context.Context) error {
	old := r.s.AccessKeyID
	oldURI := r.cur.WithoutSecrets().String()
	api, err := r.iamAs(old, oldURI)
	if err != nil {
		return err
	}
	nothing := func(err error) error { return &stateError{err, "nothing changed: the profile still uses " + old} }
	keys, err := api.list(ctx, "")
	if err != nil {
		return nothing(err)
	}
	i := slices.IndexFunc(keys, func(k accessKey) bool { return k.ID == old })
	if i < 0 {
		return nothing(fmt.Errorf("IAM lists no access key %s for the user that signed: the profile's awskeep_access_key_id (%s) does not match the key in the device", old, r.s.Origin("access-key-id")))
	}
	user := keys[i].UserName
	var others []accessKey
	for _, k := range keys {
		if k.ID != old {
			others = append(others, k)
		}
	}
	if len(others) > 0 {
		other := others[0]
		switch {
		case !r.o.DeleteInactive:
			return nothing(fmt.Errorf("%w (%s, this profile's, and %s, %s): IAM allows two per user and rotation needs room for a new one; delete %s if nothing uses it (aws iam delete-access-key --access-key-id %s), or pass --delete-inactive to let awskeep delete it if it is inactive",
				ErrTwoKeys, old, other.ID, strings.ToLower(other.Status), other.ID, other.ID))
		case other.Status != string(types.StatusTypeInactive):
			return nothing(fmt.Errorf("%w (%s, this profile's, and %s, active): --delete-inactive deletes only an inactive key; deactivate %s first if nothing uses it (aws iam update-access-key --status Inactive --access-key-id %s)",
				ErrTwoKeys, old, other.ID, other.ID, other.ID))
		}
		if err := api.remove(ctx, user, other.ID); err != nil {
			return nothing(err)
		}
		r.o.Logger.Info("deleted the user's inactive access key (--delete-inactive)", "access_key_id", other.ID)
		nothing = func(err error) error {
			return &stateError{err, fmt.Sprintf("the inactive key %s was deleted (--delete-inactive); nothing else changed: the profile still uses %s", other.ID, old)}
		}
	}
	newURI, err := r.freeObject(ctx)
	if err != nil {
		return nothing(err)
	}
	now := r.o.Now().UTC()
	r.j = &journal{
		Version: journalVersion, Profile: r.o.Profile, ConfigFile: r.o.ConfigFile, UserName: user,
		OldAccessKeyID: old, OldKey: oldURI, NewKey: newURI, KeysBefore: []string{old},
		KeepOld: r.o.KeepOld, Began: now,
	}
	return r.save(StepBegun)
}

// freeObject returns the first successor of the profile's key that the device does not
// hold (URI without secrets).
func (r *run) freeObject(ctx context.Context) (string, error) {
	cands, err := Candidates(r.cur, maxCandidates)
	if err != nil {
		return "", err
	}
	for _, c := range cands {
		k := plugins.Key{URI: c.WithoutSecrets().String(), PIN: r.d.Key.PIN}
		desc, err := r.d.Backend.DescribeKey(ctx, k)
		if errors.Is(err, plugins.ErrKeyNotFound) || err == nil && !desc.Exists {
			return k.URI, nil
		}
		if err != nil {
			return "", fmt.Errorf("look for a free object for the new key: %s: %w", k.URI, r.d.Explain("describe", err))
		}
	}
	return "", fmt.Errorf("the device holds objects under the next %d names after %s (%s ... %s): delete old ones (awskeep keys delete --key URI) or rename the key",
		len(cands), r.cur.WithoutSecrets(), cands[0].WithoutSecrets(), cands[len(cands)-1].WithoutSecrets())
}

// resume checks a journal against the profile as it is now.
func (r *run) resume(j *journal) error {
	r.j = j
	if j.Profile != r.o.Profile || j.ConfigFile != r.o.ConfigFile {
		return fmt.Errorf("rotation journal %s belongs to another profile: remove it", r.jpath)
	}
	r.j.KeepOld = r.j.KeepOld || r.o.KeepOld
	uri := r.cur.WithoutSecrets().String()
	atOld := uri == j.OldKey && r.s.AccessKeyID == j.OldAccessKeyID
	atNew := uri == j.NewKey && r.s.AccessKeyID == j.NewAccessKeyID && j.NewAccessKeyID != ""
	before := slices.Index(Steps, j.Step) < slices.Index(Steps, StepProfileUpdated)
	switch {
	case atNew && before:
		// The profile was written and the run died before recording it.
		j.Step = StepProfileUpdated
	case atOld && before, atNew:
	default:
		return fmt.Errorf("%w: %s names %s (%s), but the rotation recorded in %s went from %s (%s) to %s (%s): put one of those back in the profile and run awskeep rotate --profile %s again, or remove the journal to abandon that rotation (check the user's keys with aws iam list-access-keys)",
			ErrProfileChanged, r.p.Where("awskeep_key"), uri, r.s.AccessKeyID, r.jpath, j.OldKey, j.OldAccessKeyID, j.NewKey, orNone(j.NewAccessKeyID), r.o.Profile)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "not created"
	}
	return s
}

// advance runs the steps after the journal's until the rotation is done.
func (r *run) advance(ctx context.Context) error {
	for {
		var err error
		switch r.j.Step {
		case StepBegun:
			err = r.create(ctx)
		case StepCreated:
			err = r.recoverCreated(ctx)
		case StepImported:
			err = r.verify(ctx)
		case StepVerified:
			err = r.updateProfile()
		case StepProfileUpdated:
			err = r.deactivate(ctx)
		case StepDeactivated:
			if r.j.KeepOld {
				return r.finish()
			}
			err = r.deleteOldKey(ctx)
		case StepDeletedKey:
			err = r.deleteOldObject(ctx)
		case StepDeletedObject:
			return r.finish()
		}
		if err != nil {
			return err
		}
	}
}

// create asks IAM for the new key, signed with the old one, and imports its secret into the
// device. An access key a dead run created but never recorded (its secret is lost) is
// deleted first.
func (r *run) create(ctx context.Context) error {
	j := r.j
	api, err := r.iamAs(j.OldAccessKeyID, j.OldKey)
	if err != nil {
		return err
	}
	keys, err := api.list(ctx, j.UserName)
	if err != nil {
		return r.fail(err)
	}
	if err := r.dropLost(ctx, api, keys); err != nil {
		return err
	}
	j.CreateSent = r.o.Now().UTC()
	if err := r.save(StepBegun); err != nil {
		return err
	}
	newKey, err := r.key(j.NewKey)
	if err != nil {
		return err
	}
	_, err = api.create(ctx, j.UserName, func(id string, secret []byte) error {
		crashAfter("create-answered")
		j.NewAccessKeyID = id
		if err := r.save(StepCreated); err != nil {
			return err
		}
		material := devicekey.Material(string(secret))
		defer clear(material)
		if err := r.d.Backend.ImportKey(ctx, newKey, material, plugins.ImportOptions{}); err != nil {
			return &importError{r.d.Explain("import", err)}
		}
		return r.save(StepImported)
	})
	var ie *importError
	if errors.As(err, &ie) {
		return r.rollBack(ctx, api, fmt.Errorf("import the new secret into %s: %w", j.NewKey, ie.err))
	}
	if err != nil {
		return r.fail(err)
	}
	return nil
}

// dropLost deletes the access key a run that died between sending CreateAccessKey and
// recording its answer left behind (its secret is lost), and refuses to go on beside any
// other key that was not there when the rotation began: someone made it, and it is theirs.
func (r *run) dropLost(ctx context.Context, api *iamAPI, keys []accessKey) error {
	j := r.j
	var unknown []accessKey
	for _, k := range keys {
		if k.ID != j.OldAccessKeyID && !slices.Contains(j.KeysBefore, k.ID) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	// Clocks differ: IAM's CreateDate against this machine's; a minute of slack.
	lost := len(unknown) == 1 && !j.CreateSent.IsZero() && !unknown[0].Created.Before(j.CreateSent.Add(-time.Minute))
	if !lost {
		return r.fail(fmt.Errorf("%w: access key %s appeared while the rotation was interrupted, and rotate did not create it: delete it if nothing uses it (aws iam delete-access-key --access-key-id %s)",
			ErrTwoKeys, unknown[0].ID, unknown[0].ID))
	}
	k := unknown[0]
	if err := api.remove(ctx, j.UserName, k.ID); err != nil {
		return r.fail(fmt.Errorf("delete access key %s, created by an interrupted rotation (its secret was lost): %w", k.ID, err))
	}
	r.o.Logger.Info("deleted an access key an interrupted rotation created (its secret was lost)", "access_key_id", k.ID)
	return nil
}

// importError marks a failure of the device's import inside create.
type importError struct{ err error }

func (e *importError) Error() string { return e.err.Error() }
func (e *importError) Unwrap() error { return e.err }

// recoverCreated continues after a run that died between CreateAccessKey and recording
// the import: the device has the new object (import done) or the secret is lost.
func (r *run) recoverCreated(ctx context.Context) error {
	k, err := r.key(r.j.NewKey)
	if err != nil {
		return err
	}
	desc, err := r.d.Backend.DescribeKey(ctx, k)
	switch {
	case err == nil && desc.Exists:
		return r.save(StepImported)
	case err != nil && !errors.Is(err, plugins.ErrKeyNotFound):
		return r.fail(fmt.Errorf("check whether %s holds the new key: %w", r.j.NewKey, r.d.Explain("describe", err)))
	}
	api, err := r.iamAs(r.j.OldAccessKeyID, r.j.OldKey)
	if err != nil {
		return err
	}
	lost := r.j.NewAccessKeyID
	if err := api.remove(ctx, r.j.UserName, lost); err != nil {
		return r.fail(fmt.Errorf("delete access key %s, whose secret an interrupted run lost before the device had it: %w", lost, err))
	}
	r.o.Logger.Info("deleted the new access key whose secret was lost; starting over", "access_key_id", lost)
	r.j.NewAccessKeyID = ""
	return r.save(StepBegun)
}

// rollBack deletes the new access key after its import failed, so the user is back where
// the rotation began, and returns cause with that said.
func (r *run) rollBack(ctx context.Context, api *iamAPI, cause error) error {
	id := r.j.NewAccessKeyID
	if err := api.remove(ctx, r.j.UserName, id); err != nil {
		return r.fail(fmt.Errorf("%w; and deleting the new access key %s failed too: %v", cause, id, err))
	}
	r.j.NewAccessKeyID = ""
	if err := r.save(StepBegun); err != nil {
		return err
	}
	return &stateError{cause, fmt.Sprintf("the new access key %s was deleted again and the profile still uses %s, which works: make room on the device or fix it, then run awskeep rotate --profile %s again", id, r.j.OldAccessKeyID, r.o.Profile)}
}

// verify waits until STS accepts a request signed with the new key, backing off, at most
// Options.VerifyFor.
func (r *run) verify(ctx context.Context) error {
	k, err := r.key(r.j.NewKey)
	if err != nil {
		return err
	}
	client := sts.New(r.deriver(k), r.j.NewAccessKeyID, func(o *sts.Options) {
		o.Region, o.EndpointURL, o.HTTPClient, o.RetryMaxAttempts = r.s.Region, r.s.EndpointURL, r.http, 1
	})
	var id sts.Identity
	attempts, err := untilAccepted(ctx, r.o, func(ctx context.Context) error {
		var err error
		id, err = client.GetCallerIdentity(ctx)
		return err
	})
	if err != nil {
		return r.fail(fmt.Errorf("verify the new key %s with STS GetCallerIdentity: %w", r.j.NewAccessKeyID, err))
	}
	if r.j.UserName != "" && !strings.HasSuffix(id.ARN, "/"+r.j.UserName) {
		return r.fail(fmt.Errorf("the new key %s belongs to %s, not to user %s: check the IAM endpoint settings", r.j.NewAccessKeyID, id.ARN, r.j.UserName))
	}
	r.o.Logger.Info("STS accepts the new key", "access_key_id", r.j.NewAccessKeyID, "attempts", attempts)
	return r.save(StepVerified)
}

// Backoff of untilAccepted.
const (
	firstDelay = 500 * time.Millisecond
	maxDelay   = 8 * time.Second
)

// untilAccepted calls call until it succeeds, waiting firstDelay, then twice as long each
// time up to maxDelay, for at most o.VerifyFor in all; it returns how many calls it made.
// A failure of the device or its plugin, or the end of ctx, is not retried: only STS's
// refusal of a key it has not seen yet is worth waiting out.
func untilAccepted(ctx context.Context, o Options, call func(context.Context) error) (int, error) {
	deadline := o.Now().Add(o.VerifyFor)
	delay := firstDelay
	for attempt := 1; ; attempt++ {
		err := call(ctx)
		if err == nil {
			return attempt, nil
		}
		if ctx.Err() != nil || creds.ClassOf(err) == creds.ClassDevice || creds.ClassOf(err) == creds.ClassPlugin {
			return attempt, err
		}
		if o.Now().Add(delay).After(deadline) {
			return attempt, fmt.Errorf("%w: refused %d times in %v (IAM may still be propagating it); last: %w", ErrNotVerified, attempt, o.VerifyFor, err)
		}
		o.Logger.Info("the new key is not accepted yet; retrying", "attempt", attempt, "in", delay)
		if err := o.Sleep(ctx, delay); err != nil {
			return attempt, err
		}
		delay = min(2*delay, maxDelay)
	}
}

// updateProfile points the profile at the new key: awskeep_key keeps the text of its query
// (module, connector, PIN source) as the user wrote it; only the object part changes.
func (r *run) updateProfile() error {
	nu, err := keyuri.Parse(r.j.NewKey)
	if err != nil {
		return err
	}
	nu.Query = nil
	text := nu.String()
	if i := strings.IndexByte(r.p.Key, '?'); i >= 0 {
		text += r.p.Key[i:]
	}
	if err := credfile.UpdateConfig(r.o.ConfigFile, r.o.Profile, []credfile.Setting{
		{Key: "awskeep_key", Value: text},
		{Key: "awskeep_access_key_id", Value: r.j.NewAccessKeyID},
	}); err != nil {
		return r.fail(fmt.Errorf("point profile %s at the new key: %w", r.o.Profile, err))
	}
	return r.save(StepProfileUpdated)
}

// deactivate sets the old key Inactive, signed with the new one.
func (r *run) deactivate(ctx context.Context) error {
	api, err := r.iamAs(r.j.NewAccessKeyID, r.j.NewKey)
	if err != nil {
		return err
	}
	if err := api.setStatus(ctx, r.j.UserName, r.j.OldAccessKeyID, types.StatusTypeInactive); err != nil {
		var ie *IAMError
		if !errors.As(err, &ie) || ie.Code != "NoSuchEntity" {
			return r.fail(err)
		}
	}
	return r.save(StepDeactivated)
}

// deleteOldKey deletes the old access key, signed with the new one.
func (r *run) deleteOldKey(ctx context.Context) error {
	api, err := r.iamAs(r.j.NewAccessKeyID, r.j.NewKey)
	if err != nil {
		return err
	}
	if err := api.remove(ctx, r.j.UserName, r.j.OldAccessKeyID); err != nil {
		return r.fail(err)
	}
	return r.save(StepDeletedKey)
}

// deleteOldObject deletes the old key's object from the device; one already gone is fine.
func (r *run) deleteOldObject(ctx context.Context) error {
	k, err := r.key(r.j.OldKey)
	if err != nil {
		return err
	}
	if err := r.d.Backend.DeleteKey(ctx, k); err != nil && !errors.Is(err, plugins.ErrKeyNotFound) {
		return r.fail(fmt.Errorf("delete the old key's object %s from the device: %w", r.j.OldKey, r.d.Explain("delete", err)))
	}
	return r.save(StepDeletedObject)
}

// finish drops the old key's cache entries and the journal.
func (r *run) finish() error {
	if r.o.Cache != nil {
		n, err := r.o.Cache.DropAccessKey(r.j.OldAccessKeyID)
		if err != nil {
			// The entries expire on their own; the rotation is done.
			r.o.Logger.Warn("cached credentials of the old key were not all removed; run awskeep cache clear", "error", err.Error())
		} else if n > 0 {
			r.o.Logger.Info("dropped cached credentials of the old key", "entries", n)
		}
	}
	if err := removeJournal(r.jpath); err != nil {
		return r.fail(err)
	}
	return nil
}

// stateError is a failure with the state the user is left in and what to do.
type stateError struct {
	err    error
	advice string
}

func (e *stateError) Error() string { return e.err.Error() + "; " + e.advice }
func (e *stateError) Unwrap() error { return e.err }

// fail adds to err the state the journal records: which key the profile uses (it works)
// and that running rotate again finishes the job.
func (r *run) fail(err error) error {
	var se *stateError
	if errors.As(err, &se) {
		return err
	}
	again := "run awskeep rotate --profile " + r.o.Profile + " again"
	var advice string
	switch {
	case r.j == nil:
		advice = "nothing changed: the profile still uses " + r.s.AccessKeyID
	case slices.Index(Steps, r.j.Step) < slices.Index(Steps, StepProfileUpdated):
		advice = fmt.Sprintf("the profile still uses %s, which works; fix the cause and %s to finish the rotation or roll it back", r.j.OldAccessKeyID, again)
	default:
		advice = fmt.Sprintf("the profile now uses the new key %s, which works; fix the cause and %s to retire %s", r.j.NewAccessKeyID, again, r.j.OldAccessKeyID)
	}
	if errors.Is(err, ErrUnreachable) {
		advice += " once IAM is reachable"
	}
	return &stateError{err, advice}
}
