// Package engine is awskeep's credential engine (DESIGN.md, "The shape of the product"):
// it merges command-line flags, a profile of the AWS shared config file and the environment
// into Settings, and builds from them the credentials Provider every sink uses — the
// profile's source (a device key signing STS) wrapped in the cache.
//
// Commands parse flags into a Settings value, call Resolve and New, and print what the
// Provider retrieves; they hold no credential logic of their own.
package engine
