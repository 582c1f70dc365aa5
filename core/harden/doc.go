// Package harden keeps the secrets a process holds (a PIN, an AWS secret during import,
// temporary credentials) out of core dumps: Process sets the core size limit to zero and
// marks the process non-dumpable (prctl(2) PR_SET_DUMPABLE), which also keeps other
// processes of the same user from reading its memory through /proc or ptrace.
//
// The awskeep host calls Process first thing in main; plugins do the same in plugins.Serve.
// Children the user asked for (awskeep exec, an mfa_process) get their original core limit
// back through RestoreChild: the limit is inherited across exec, dumpability is not.
package harden
