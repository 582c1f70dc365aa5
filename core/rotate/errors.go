package rotate

import "errors"

// Sentinel errors of Run. Errors wrap one of them where one applies (errors.Is); the text
// around them says what state the rotation is in and what to do.
var (
	// ErrTwoKeys: the IAM user already has two access keys and none may be removed.
	ErrTwoKeys = errors.New("the IAM user already has two access keys")
	// ErrAccessDenied: IAM refused a call for want of permission.
	ErrAccessDenied = errors.New("IAM access denied")
	// ErrKeyLimit: IAM refused to create a key (the two-key limit).
	ErrKeyLimit = errors.New("IAM access key limit reached")
	// ErrKeyRefused: IAM or STS does not accept the access key that signed.
	ErrKeyRefused = errors.New("access key refused")
	// ErrUnreachable: IAM could not be reached, or did not answer in time.
	ErrUnreachable = errors.New("IAM unreachable")
	// ErrIAM: another IAM error.
	ErrIAM = errors.New("IAM error")
	// ErrNotVerified: STS did not accept the new key within the verification bound.
	ErrNotVerified = errors.New("the new key was not accepted in time")
	// ErrProfileChanged: the profile names neither the old key nor the new one of the
	// journal's rotation.
	ErrProfileChanged = errors.New("the profile changed during the rotation")
	// ErrNotDeviceProfile: the profile has no device key to rotate.
	ErrNotDeviceProfile = errors.New("not a device-key profile")
)
