package rotate

import (
	"context"
	"fmt"
	"slices"

	"github.com/awskeep/awskeep/core/devicekey"
	"github.com/awskeep/awskeep/core/sigv4"
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
