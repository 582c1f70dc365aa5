// Package vaulttest tests awskeep-plugin-vault against a real HashiCorp Vault started in
// process (vault.TestCoreUnsealedWithConfig with the transit engine, served over HTTP by
// vaulthttp.TestServer). It is a module of its own so that Vault's dependency graph never
// reaches the plugin's or the host's go.mod; it is not in go.work either (the Makefile runs
// it with GOWORK=off), so that no workspace build resolves Vault's modules.
package vaulttest
