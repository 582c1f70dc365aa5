package rotate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/awskeep/awskeep/plugins"
)

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
