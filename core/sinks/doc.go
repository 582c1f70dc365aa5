// Package sinks hands credentials from the engine to clients that do not run
// credential_process: shell variables, credentials-file blocks, and a child process started
// with them in its environment (DESIGN.md, "The shape of the product": export and exec).
// credential_process output itself is package credproc.
package sinks
