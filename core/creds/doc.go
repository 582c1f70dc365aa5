// Package creds is the vocabulary of awskeep's credential engine (DESIGN.md, "The shape of
// the product"): the one Credentials type every source, the cache and every sink share, the
// Provider interface a source implements, and the error classes that tell a user which
// step failed (configuration, prompt, plugin, device, STS, cache).
//
// Sources (a device key through STS, later SAML federation) are Providers; the cache wraps
// any Provider; sinks (credential-process, export, exec, local servers) take a Provider and
// print or serve what it retrieves. Nothing here prints a secret: Credentials redacts itself
// in String, GoString and LogValue, and Error texts never hold one.
package creds
