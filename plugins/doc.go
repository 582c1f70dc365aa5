// Package plugins is the contract between the awskeep host and its key backends, and the SDK
// that backend authors build on.
//
// A backend keeps HMAC-SHA256 keys (for awskeep: "AWS4" followed by an AWS secret access key)
// inside a device and computes HMACs with them. The host never sees the key again after
// import. Backends run as separate processes ("plugins") so that a vendor C library that
// crashes or hangs costs one request, not the host.
//
// Who uses what:
//
//   - Backend authors implement [Backend], call [Serve] from their plugin's main, and run the
//     conformance kit (package conformance) in their tests. Package example is a complete,
//     deliberately simple backend to copy. docs/writing-a-backend.md walks through it.
//   - The host calls [Launch] to start a plugin binary and gets a [Backend] back; errors keep
//     their identity across the process boundary, so errors.Is(err, ErrPINIncorrect) works.
//
// What every backend repeats is here once: [CheckMessage] for the message limit,
// [WrapSystemError] to turn the operating system's and the network's errors (connection
// refused, no such host, timeouts, permission) into the contract's sentinels,
// [MissingPIN] for a key used without its PIN, and keyuri.Register for the URI
// attributes a backend accepts. [CapabilityNonExtractable], [CapabilitySoftwareWrapped] and
// [CapabilityPIN] say what the backend's keys are; the conformance kit holds it to them.
// Protocol 1.3 adds two optional operations, [KeyLister] and [AuditLogReader], claimed with
// [CapabilityListKeys] and [CapabilityAuditLog]; a backend without them answers
// [ErrUnsupported] through the SDK, with no code of its own.
//
// Key URIs are parsed by package keyuri. Protocol versions follow one rule: a new minor
// version only adds (see proto/awskeep/plugin/v1/backend.proto).
//
// From the root of the awskeep checkout, which is a Go workspace without a module of its
// own, "go doc" finds no module packages (it asks "go env GOMOD", which is /dev/null there);
// read these docs with "go doc ./plugins", "go doc ./plugins/conformance Config" or
// "go -C plugins doc github.com/awskeep/awskeep/plugins". From a backend's own module,
// which requires this one, "go doc github.com/awskeep/awskeep/plugins" works as usual.
package plugins
