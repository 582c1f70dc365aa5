package rotate

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/awskeep/awskeep/core/credfile"
	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

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
