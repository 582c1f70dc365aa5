package rotate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/awskeep/awskeep/core/devicekey"
	"github.com/awskeep/awskeep/plugins"
)

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
