// Package migrate reads the credential_process line of the two tools awskeep replaces,
// aws-pkcs-process-credential and aws-tpm-process-credential, and maps their flags to the
// settings of an awskeep profile, as the tables of docs/migrating.md say. It is pure: Parse
// and Map read strings and return values; `awskeep migrate` (cmd/awskeep-full) writes the
// profile with credfile.UpdateConfig and the PIN file.
//
// A PIN or key password found on the old line (pin-value= in --pkcs-uri, --keyPass) is
// returned apart, in Migration.PIN, and never kept in the new key URI: Map requires the path
// of the file that will hold it and points pin-source at that file. No error of this package
// holds a flag's value.
package migrate
