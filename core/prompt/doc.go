// Package prompt asks the user for a PIN, an MFA code, an IdP password or a role choice on the
// controlling terminal, /dev/tty.
//
// The AWS CLI and boto3 run a credential_process helper with its stderr captured and its stdin
// left on the terminal, so a prompt written to stderr is never seen and the CLI hangs waiting
// for an answer nobody knows to type. Opening /dev/tty reaches the user wherever the standard
// streams point. A process with no controlling terminal (a daemon, a CI job, an IDE) cannot
// be asked at all; TTY then fails at once with ErrNoTerminal, and Required turns that into an
// error naming the setting that would have answered the question.
//
// The engine and the commands in cmd/awskeep-full take a Prompter, so tests and later front ends
// can answer for the user. Answers never appear in errors.
package prompt
