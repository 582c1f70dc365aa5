package configref

// Scheme describes the key URI attributes of one scheme, for the reference.
type Scheme struct {
	// Name is the scheme; Plugin the executable that serves it.
	Name, Plugin string
	// Example is one key URI of the scheme.
	Example string
	// Attrs are the scheme's attributes, path attributes (which key) first.
	Attrs []Attr
}

// Attr is one attribute of a key URI.
type Attr struct {
	// Name is the attribute; Query is true for a query attribute (after "?").
	Name  string
	Query bool
	// Text says what it does, in Markdown.
	Text string
}

// CommonAttrs are accepted by every scheme; the host resolves them and never sends them to
// a plugin.
var CommonAttrs = []Attr{
	{"pin-source", true, "Where the PIN or password is: `file:PATH` (a file only you may read), or a bare path (RFC 7512 section 2.3). Else `$AWSKEEP_PIN`, else a prompt on the terminal."},
	{"pin-value", true, "The PIN itself (RFC 7512); discouraged, since it puts the PIN where the URI is. Empty (`pin-value=`) says the key has no PIN."},
}

// Schemes lists the attributes of every scheme awskeep's plugins serve. A test reads the
// schemas the backends register with keyuri (from their source) and fails when this list
// and theirs differ.
var Schemes = []Scheme{
	{"pkcs11", "awskeep-plugin-pkcs11",
		"pkcs11:token=aws;object=prod?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/awskeep/pin",
		[]Attr{
			{"token", false, "The token's label (RFC 7512 section 2.3, as every attribute of this scheme)."},
			{"manufacturer", false, "The token's manufacturer id."},
			{"serial", false, "The token's serial number."},
			{"model", false, "The token's model."},
			{"library-manufacturer", false, "The module's manufacturer id."},
			{"library-description", false, "The module's description."},
			{"library-version", false, "The module's version (`M` or `M.N`)."},
			{"slot-description", false, "The slot's description."},
			{"slot-manufacturer", false, "The slot's manufacturer id."},
			{"slot-id", false, "The slot's number."},
			{"object", false, "The key's label (`CKA_LABEL`)."},
			{"id", false, "The key's id (`CKA_ID`), percent-encoded bytes."},
			{"type", false, "`secret-key`, or absent: awskeep keys are secret keys."},
			{"module-path", true, "The PKCS#11 library, an absolute path (default `/usr/lib/softhsm/libsofthsm2.so`)."},
			{"module-name", true, "Refused: give the library file with `module-path`."},
		}},
	{"tpm", "awskeep-plugin-tpm",
		"tpm:file=/etc/awskeep/prod.tss2.pem?device=/dev/tpmrm0&pin-source=file:/run/awskeep/tpm.pw",
		[]Attr{
			{"handle", false, "A persistent object's handle, `0x81000000` to `0x81FFFFFF` (TPM2_EvictControl)."},
			{"file", false, "A TSS2 PEM key file (a blob only this TPM can load), an absolute path."},
			{"dir", false, "A directory of key files, for `awskeep keys list` only."},
			{"device", true, "The TPM: a character device (default `/dev/tpmrm0`) or `tcp://HOST:PORT`, a simulator's command port (swtpm)."},
			{"pcrs", true, "Bind the key to the current values of these PCRs, e.g. `sha256:7,23` (policy: PCRs and the password)."},
		}},
	{"yubihsm", "awskeep-plugin-yubihsm",
		"yubihsm:object-id=0x0010?connector=http://127.0.0.1:12345&auth-key-id=1&pin-source=file:/run/awskeep/yubihsm.pw",
		[]Attr{
			{"object-id", false, "The HMAC key's object id, `0x0001` to `0xfffe` or decimal; required."},
			{"connector", true, "yubihsm-connector's URL (default `http://127.0.0.1:12345`)."},
			{"auth-key-id", true, "The authentication key that opens the session (default 1); the PIN is its password."},
			{"label", true, "The label `import` gives the key (default `awskeep-NNNN`), up to 40 bytes."},
			{"domains", true, "The domains `import` puts the key in, e.g. `1,2` (default 1)."},
		}},
	{"vault", "awskeep-plugin-vault",
		"vault:key=prod?addr=https://vault.example:8200&pin-source=file:/run/awskeep/vault-token",
		[]Attr{
			{"key", false, "The transit key's name; required."},
			{"addr", true, "Vault's address (default `$VAULT_ADDR`, then `https://127.0.0.1:8200`)."},
			{"mount", true, "The transit engine's mount (default `transit`)."},
			{"namespace", true, "The Vault Enterprise namespace (default `$VAULT_NAMESPACE`)."},
			{"auth", true, "`token` (default: the PIN is a Vault token; an empty one falls back to `$VAULT_TOKEN`) or `approle` (the PIN is an AppRole secret id, exchanged for a token)."},
			{"auth-mount", true, "The AppRole auth mount (default `approle`)."},
			{"role-id", true, "The AppRole role id; required with `auth=approle`."},
		}},
	{"tink", "awskeep-plugin-tink",
		"tink:file=/etc/awskeep/prod.keyset.json?kek=aws-kms://arn:aws:kms:eu-west-1:111122223333:key/ID&pin-value=",
		[]Attr{
			{"file", false, "The encrypted keyset, an absolute path; required."},
			{"kek", true, "The KMS key that encrypts the keyset, `aws-kms://ARN`; required."},
			{"kms-endpoint", true, "KMS's endpoint (https, or http on a loopback address)."},
			{"region", true, "KMS's region (default the ARN's, which it must match)."},
			{"profile", true, "The AWS profile the plugin reaches KMS with (default the SDK's credential chain)."},
		}},
}
