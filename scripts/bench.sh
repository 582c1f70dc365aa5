#!/usr/bin/env bash
# make bench: every awskeep benchmark in one run on this machine: cmd/bench, then the Vault
# rows of the nested module plugin-vault/vaulttest (GOWORK=off: Vault's dependency graph
# stays out of cmd's go.mod), whose lines are merged into bench/results.txt; printed as
# tables and written to bench/results.md: all results; credential helpers side by side with
# each median's ratio to its reference; the cold path's phases per backend.
# BENCHTIME sets go test -benchtime. RESULTS=bench/results.txt skips the run and only
# rewrites bench/results.md from that file.
set -euo pipefail
cd "$(dirname "$0")/.."
benchtime=${BENCHTIME:-3s}
mkdir -p bench
raw=bench/results.txt
if [ -z "${RESULTS:-}" ]; then
	echo "== go test -bench . -benchtime $benchtime ./bench (in cmd/)"
	{ echo "# benchtime $benchtime"; (cd cmd && go test -run '^$' -bench . -benchtime "$benchtime" -timeout 30m ./bench/); } | tee "$raw"
	echo "== GOWORK=off go test -bench . -benchtime $benchtime (in plugin-vault/vaulttest: Vault transit, a real in-process Vault)"
	(cd plugin-vault/vaulttest && GOWORK=off go test -run '^$' -bench . -benchtime "$benchtime" -timeout 30m .) | tee "$raw.vault"
	grep -q '^ok' "$raw.vault" || { echo "bench: the Vault benchmark run failed" >&2; exit 1; }
	# Its Benchmark lines join the run's: same names (BenchmarkPluginHMAC/..., BenchmarkCredentialProcess/...) and metrics.
	grep '^Benchmark' "$raw.vault" >>"$raw"
	rm -f "$raw.vault"
else
	raw=$RESULTS
	benchtime=$(sed -n 's/^# benchtime //p' "$raw" | head -1)
	benchtime=${benchtime:-?}
fi
grep -q '^ok' "$raw" || { echo "bench: the benchmark run failed" >&2; exit 1; }

# The credential-helper comparisons: benchmark | what it is | the benchmark it is divided by.
# A row whose benchmark is not in the run says so; "cold through a warm plugin" waits for
# issue 14 part 3 (long-lived hosts keep a plugin warm).
comparisons='
## Cache hit, against the shell stub
CredentialProcess/static-stub|shell stub printing static JSON|CredentialProcess/static-stub
CredentialProcess/go-hello|Go hello world|CredentialProcess/static-stub
CredentialProcess/stdlib-json-reader|stdlib JSON reader|CredentialProcess/static-stub
CredentialProcess/pkcs11-warm-cache-hit|awskeep cache hit (flags)|CredentialProcess/static-stub
CredentialProcess/pkcs11-warm-cache-hit-profile|awskeep cache hit (--profile)|CredentialProcess/static-stub
CredentialProcess/pkcs11-warm-cache-hit-profile-go-front|awskeep cache hit (--profile), Go front (other systems than linux)|CredentialProcess/static-stub
## Fresh credentials, GetSessionToken, against the STS floor
CredentialProcess/sts-floor|STS floor: stdlib SigV4 + one POST|CredentialProcess/sts-floor
CredentialProcess/host-start-floor|the start alone of a Go program linking the plugin SDK and the SDK STS client|CredentialProcess/sts-floor
CredentialProcess/pkcs11-reinit|PKCS#11 re-initialised per signature (SoftHSM)|CredentialProcess/sts-floor
CredentialProcess/pkcs11-softhsm-cold-session-token|awskeep cold, SoftHSM|CredentialProcess/sts-floor
## Fresh credentials, AssumeRole, against the STS floor
CredentialProcess/sts-floor-assume-role|STS floor: stdlib SigV4 + one POST|CredentialProcess/sts-floor-assume-role
CredentialProcess/pkcs11-softhsm-cold|awskeep cold, SoftHSM|CredentialProcess/sts-floor-assume-role
CredentialProcess/tpm-swtpm-cold|awskeep cold, swtpm|CredentialProcess/sts-floor-assume-role
CredentialProcess/yubihsm-sim-cold|awskeep cold, YubiHSM simulator|CredentialProcess/sts-floor-assume-role
CredentialProcess/tink-cold|awskeep cold, Tink keyset (KMS Decrypt on moto)|CredentialProcess/sts-floor-assume-role
CredentialProcess/vault-cold|awskeep cold, Vault transit (in-process Vault)|CredentialProcess/sts-floor-assume-role
CredentialProcess/pkcs11-softhsm-cold-warm-plugin|awskeep cold through a warm plugin (issue 14 part 3)|CredentialProcess/sts-floor-assume-role
## 32 cold invocations at once sharing the cache, against one cold invocation
Concurrent32/pkcs11-cold-shared-cache|32 awskeep cold at once, SoftHSM|CredentialProcess/pkcs11-softhsm-cold
'

# The phases of BenchmarkColdPhases (cmd/bench/phases_test.go), in order: metric | meaning.
phases='
phase1-host-start|exec to the start of the key provider: the front, then the full program (process start, Go runtime and package init, command line)
phase2-open-key-exec|PIN, plugin lookup and checks, exec of the plugin
phase3-plugin-start|plugin start and init, until its handshake line
phase4-grpc-info|gRPC connection on the peer-checked unix socket, and Info
phase5-device|the first device HMAC (with the module load and login)
phase6-sts|signing and the STS round trip
phase7-plugin-close|waiting, after STS answered, for the plugin to exit (it is closed once the device has answered)
phase8-print-exit|after STS answered and the plugin exited: print the credentials and exit
printed|exec to the credentials on stdout
'

{
	echo "# awskeep benchmarks"
	echo
	echo "One run of \`make bench\` (BENCHTIME=$benchtime) on $(nproc) cores, $(date -u +%Y-%m-%d), $(go version | cut -d' ' -f3)."
	echo "$(grep -m1 '^cpu:' "$raw" | sed 's/^cpu: */CPU: /')"
	echo
	echo "| benchmark | iterations | mean | p50 | p90 | p99 | throughput | device operations |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	awk '
	function human(ns) {
		if (ns >= 1e6) return sprintf("%.1f ms", ns / 1e6)
		if (ns >= 1e3) return sprintf("%.1f µs", ns / 1e3)
		return sprintf("%d ns", ns)
	}
	/^Benchmark/ {
		name = $1; sub(/-[0-9]+$/, "", name); sub(/^Benchmark/, "", name)
		p50 = "-"; p90 = "-"; p99 = "-"; rps = "-"; ops = "-"
		for (i = 3; i < NF; i++) {
			if ($(i+1) == "ns/op") mean = human($i)
			if ($(i+1) == "p50-ms") p50 = $i " ms"
			if ($(i+1) == "p90-ms") p90 = $i " ms"
			if ($(i+1) == "p99-ms") p99 = $i " ms"
			if ($(i+1) == "req/s") rps = $i " req/s"
			if ($(i+1) == "device-ops") ops = $i " for the run"
			if ($(i+1) == "device-ops/req") ops = $i " per request"
		}
		printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", name, $2, mean, p50, p90, p99, rps, ops
	}' "$raw"
	echo
	echo "Sign: one SigV4 signature of an STS AssumeRole POST. PluginHMAC: one HMAC over an 8-byte date from"
	echo "the host through gRPC to the plugin and its device (tink-kms-moto: the keyset decrypted by moto's KMS once"
	echo "per plugin, then Tink's HMAC in the plugin; vault-transit: one transit/hmac request to a real Vault"
	echo "started in process by plugin-vault/vaulttest, on loopback). PluginLaunch: exec to first answer (handshake,"
	echo "peer-checked unix socket, Info). CredentialProcess: wall time of one \`awskeep credential-process\` against moto on"
	echo "loopback (cold: --no-cache, so plugin start, device login, HMAC and STS; tink-cold adds one KMS Decrypt,"
	echo "vault-cold one transit call; AssumeRole unless"
	echo "session-token; pkcs11-warm-cache-hit-profile: a hit through --profile and ~/.aws/config, answered by the"
	echo "C front, awskeep on linux; -go-front: the same by the Go front, awskeep elsewhere), next to"
	echo "reference programs run the same way: a shell stub and a Go hello world that print static JSON, a"
	echo "stdlib-only program that reads and prints a JSON credential file, the STS floor (stdlib SigV4 and"
	echo "one POST to the same moto) and a helper that loads, initialises, logs in to and finalises PKCS#11"
	echo "for its one HMAC (pkcs11-reinit, as aws-pkcs-process-credential does), and host-start-floor: a Go"
	echo "program that links the plugin SDK (go-plugin, gRPC) and the SDK's STS client and exits, the start"
	echo "alone of any host with plugin isolation (a cold run starts two such programs: host and plugin)."
	echo "ColdPhases: see below."
	echo "Concurrent32: 32 invocations started at once, until the last has printed. Serve: one GET of a"
	echo "served credential from \`awskeep serve\` (ECS endpoint), alone and with 16 clients at once."
	echo "DirectSign: one signature through core/devicesign (the Go API) with the SoftHSM key, by 1 and 8"
	echo "goroutines, next to aws-sdk-go-v2's signer with the secret in memory (sdk-software); nocache asks"
	echo "the device for every signature (device-ops/req). Proxy: one STS GetCallerIdentity from an SDK client"
	echo "sent straight to moto (direct) and through \`awskeep proxy\` (verify, re-sign with the device, forward)."
	echo
	echo "## Credential helpers side by side"
	echo
	echo "Medians (p50) of the CredentialProcess and Concurrent32 benchmarks above, each divided by the"
	echo "median of its reference in the same run. The reference programs are in cmd/bench/testdata/peers."
	echo
	echo "| helper | benchmark | p50 | ratio | reference |"
	echo "|---|---|---:|---:|---|"
	awk -F'|' '
	function ms(v) { return v == "" ? "-" : sprintf("%.2f ms", v) }
	FNR == NR {
		if ($0 ~ /^## /) { n++; head[n] = substr($0, 4); next }
		if (NF == 3) { n++; bench[n] = $1; what[n] = $2; ref[n] = $3 }
		next
	}
	/^Benchmark/ {
		nf = split($0, f, /[ \t]+/)
		name = f[1]; sub(/-[0-9]+$/, "", name); sub(/^Benchmark/, "", name)
		for (i = 3; i < nf; i++) if (f[i+1] == "p50-ms") p50[name] = f[i]
	}
	END {
		for (i = 1; i <= n; i++) {
			if (i in head) { printf "| **%s** | | | | |\n", head[i]; continue }
			r = ref[i]; sub(/^[A-Za-z0-9]+\//, "", r)
			if (!(bench[i] in p50)) { printf "| %s | %s | not in this run | - | %s |\n", what[i], bench[i], r; continue }
			ratio = (ref[i] in p50) && p50[ref[i]] > 0 ? sprintf("%.2fx", p50[bench[i]] / p50[ref[i]]) : "-"
			printf "| %s | %s | %s | %s | %s |\n", what[i], bench[i], ms(p50[bench[i]]), ratio, r
		}
	}' <(printf '%s\n' "$comparisons") "$raw"
	echo
	echo "## Cold path phases"
	echo
	echo "ColdPhases: a cold \`awskeep credential-process --no-cache\` (AssumeRole) at debug level, cut at the"
	echo "lines of its log: go-plugin's \"waiting for RPC address\", \"using plugin\" and \"plugin exited\","
	echo "the host's \"plugin started\", \"device answered\" and \"STS answered\" (their"
	echo "elapsed= is exact), and this process's clock at exec, first byte on stdout and exit. Log times have"
	echo "millisecond resolution. Medians per phase, so they need not add up to the median wall time."
	echo
	awk -F'|' '
	FNR == NR { if (NF == 2) { m++; metric[m] = $1; meaning[m] = $2 } ; next }
	/^BenchmarkColdPhases\// {
		nf = split($0, f, /[ \t]+/)
		name = f[1]; sub(/-[0-9]+$/, "", name); sub(/^BenchmarkColdPhases\//, "", name)
		c++; col[c] = name
		for (i = 3; i < nf; i++) {
			unit = f[i+1]
			if (unit == "p50-ms") v[name, "wall"] = f[i]
			else if (sub(/-ms$/, "", unit)) v[name, unit] = f[i]
		}
	}
	END {
		if (c == 0) { print "No ColdPhases benchmark in this run."; exit }
		printf "| phase | what |"; for (j = 1; j <= c; j++) printf " %s |", col[j]; print ""
		printf "|---|---|"; for (j = 1; j <= c; j++) printf "---:|"; print ""
		for (i = 1; i <= m; i++) {
			printf "| %s | %s |", metric[i], meaning[i]
			for (j = 1; j <= c; j++) printf " %s |", ((col[j], metric[i]) in v) ? sprintf("%.1f ms", v[col[j], metric[i]]) : "no log line"
			print ""
		}
		printf "| wall | exec to exit (p50) |"
		for (j = 1; j <= c; j++) printf " %.1f ms |", v[col[j], "wall"]
		print ""
	}' <(printf '%s\n' "$phases") "$raw"
} >bench/results.md
echo
cat bench/results.md
