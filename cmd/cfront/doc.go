// Package cfront holds awskeep's front for Linux, front.c: a static C program installed as
// `awskeep` that answers a cached `awskeep credential-process --profile P` and runs
// awskeep-full for everything else (what it does, and why it is C, is in front.c's
// opening comment). The Go front, cmd/awskeep, does the same elsewhere.
//
// The Go code of this package exists for the tests: through cgo (Linux only) it calls the
// C functions on which the front's correctness rests, so that tests can compare them with
// the Go code they mirror (core/fastpath, core/cache, plugins/trust) and fuzz the C
// parser. Build the program itself with
//
//	cc -std=c11 -O2 -Wall -Wextra -Werror -static-pie -o awskeep front.c
package cfront
