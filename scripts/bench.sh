#!/usr/bin/env bash
# make bench: every awskeep benchmark in one `go test` run on this machine (cmd/bench),
# printed as a table and written to bench/results.md. BENCHTIME sets go test -benchtime.
set -euo pipefail
cd "$(dirname "$0")/.."
benchtime=${BENCHTIME:-3s}
mkdir -p bench
raw=bench/results.txt
echo "== go test -bench . -benchtime $benchtime ./bench (in cmd/)"
(cd cmd && go test -run '^$' -bench . -benchtime "$benchtime" -timeout 30m ./bench/) | tee "$raw"
grep -q '^ok' "$raw" || { echo "bench: the benchmark run failed" >&2; exit 1; }

{
	echo "# awskeep benchmarks"
	echo
	echo "One run of \`make bench\` (BENCHTIME=$benchtime) on $(nproc) cores, $(date -u +%Y-%m-%d), $(go version | cut -d' ' -f3)."
	echo "$(grep '^cpu:' "$raw" | sed 's/^cpu: */CPU: /')"
	echo
	echo "| benchmark | iterations | mean | p50 | p90 | p99 | throughput |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	awk '
	function human(ns) {
		if (ns >= 1e6) return sprintf("%.1f ms", ns / 1e6)
		if (ns >= 1e3) return sprintf("%.1f µs", ns / 1e3)
		return sprintf("%d ns", ns)
	}
	/^Benchmark/ {
		name = $1; sub(/-[0-9]+$/, "", name); sub(/^Benchmark/, "", name)
		p50 = "-"; p90 = "-"; p99 = "-"; rps = "-"
		for (i = 3; i < NF; i++) {
			if ($(i+1) == "ns/op") mean = human($i)
			if ($(i+1) == "p50-ms") p50 = $i " ms"
			if ($(i+1) == "p90-ms") p90 = $i " ms"
			if ($(i+1) == "p99-ms") p99 = $i " ms"
			if ($(i+1) == "req/s") rps = $i " req/s"
		}
		printf "| %s | %s | %s | %s | %s | %s | %s |\n", name, $2, mean, p50, p90, p99, rps
	}' "$raw"
	echo
	echo "Sign: one SigV4 signature of an STS AssumeRole POST. PluginHMAC: one HMAC over an 8-byte date from"
	echo "the host through gRPC to the plugin and its device. PluginLaunch: exec to first answer (handshake,"
	echo "AutoMTLS, Info). CredentialProcess: wall time of one \`awskeep credential-process\` against moto on"
	echo "loopback (cold: --no-cache, so plugin start, device login, HMAC and STS), next to a shell stub that"
	echo "prints static JSON (pkcs11-warm-cache-hit-profile: the same through --profile and ~/.aws/config)."
	echo "Concurrent32: 32 invocations started at once, until the last has printed. Serve: one GET of a"
	echo "served credential from \`awskeep serve\` (ECS endpoint), alone and with 16 clients at once."
	echo "DirectSign: one signature through core/devicesign (the Go API) with the SoftHSM key, by 1 and 8"
	echo "goroutines, next to aws-sdk-go-v2's signer with the secret in memory (sdk-software); nocache asks"
	echo "the device for every signature (device-ops/req). Proxy: one STS GetCallerIdentity from an SDK client"
	echo "sent straight to moto (direct) and through \`awskeep proxy\` (verify, re-sign with the device, forward)."
} >bench/results.md
echo
cat bench/results.md
