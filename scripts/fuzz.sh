#!/usr/bin/env bash
# Runs every fuzz target of the given modules for a short time each: fuzz.sh TIME MODULE...
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=$1
shift
for m in "$@"; do
	for pkg in $(cd "$m" && go list ./...); do
		dir=$(cd "$m" && go list -f '{{.Dir}}' "$pkg")
		grep -lqs '^func Fuzz' "$dir"/*_test.go || continue
		for target in $(cd "$m" && go test -list '^Fuzz' "$pkg" | grep '^Fuzz'); do
			echo "== fuzz $pkg $target ($fuzztime)"
			(cd "$m" && go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg")
		done
	done
done
