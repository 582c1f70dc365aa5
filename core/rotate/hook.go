//go:build !awskeep_testhooks

package rotate

// crashAfter is the test hook called after each step is recorded (and after IAM answered
// CreateAccessKey, as "create-answered"); in builds without the awskeep_testhooks tag it
// does nothing. See hook_testhooks.go.
func crashAfter(string) {}
