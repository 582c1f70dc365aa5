package rotate

import (
	"errors"
	"fmt"
	"slices"
)

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
