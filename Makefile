# awskeep: keep AWS secret access keys in hardware. `make help` lists the targets.
#
# The repository is a Go workspace of six modules; `./...` stops at module boundaries, so
# every target loops over them.

SHELL      := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
MODULES    := plugins core plugin-softhsm plugin-yubihsm plugin-tpm plugin-tink plugin-vault cmd
# Modules whose binaries must not link C: the host and its keyring helper, the SDK's example
# and the YubiHSM, Tink and Vault plugins.
PURE_GO    := cmd core plugins plugin-yubihsm plugin-tink plugin-vault
# Nested test modules outside go.work, run with GOWORK=off: plugin-vault/vaulttest starts a
# real Vault in process, and keeping it out of the workspace keeps Vault's dependency graph
# out of every workspace build. Its first build compiles Vault (many minutes).
NESTED     := plugin-vault/vaulttest
BIN        := $(CURDIR)/bin
TOOLS      := $(CURDIR)/.tools/bin
export PATH := /usr/local/go/bin:$(TOOLS):$(PATH)
TESTFLAGS  ?= -race -count=1 -timeout 20m
# The awskeep front on linux is C (cmd/cfront/front.c), static against glibc (libc6-dev):
# `make build` builds it with $(CC) over the Go front cmd/awskeep, which stays the front
# elsewhere (darwin). make's own default CC is cc; awskeep's is gcc (CC=... overrides).
ifeq ($(origin CC),default)
CC         := gcc
endif
CFRONT     := cmd/cfront/front.c
CFRONT_CFLAGS := -std=c11 -O2 -Wall -Wextra -Werror
HOST_OS    := $(shell uname -s)
FUZZTIME   ?= 10s

.PHONY: all build test lint fmt generate check-generate bench fuzz demo deps clean help man \
	release package package-test release-test docs

all: build

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-15s %s\n", $$1, $$2}'

deps: ## Install missing Debian packages and the pinned Go tools.
	@scripts/deps.sh

build: ## Build every binary into bin/ (on linux the C front, cmd/cfront/front.c, is bin/awskeep).
	@mkdir -p $(BIN)
	@for m in $(MODULES); do \
		mains=$$(cd $$m && go list -f '{{if eq .Name "main"}}{{.ImportPath}}{{end}}' ./...); \
		[ -n "$$mains" ] || continue; \
		cgo=1; case " $(PURE_GO) " in *" $$m "*) cgo=0;; esac; \
		echo "build $$m (CGO_ENABLED=$$cgo)"; \
		(cd $$m && CGO_ENABLED=$$cgo go build -trimpath -o $(BIN)/ $$mains); \
	done
ifeq ($(HOST_OS),Linux)
	@# The C front replaces the Go one. `awskeep --version` is answered by awskeep-full.
	@echo "build $(CFRONT) ($(CC), static-pie) as $(BIN)/awskeep"
	@$(CC) $(CFRONT_CFLAGS) -static-pie -o $(BIN)/awskeep $(CFRONT)
endif

test: deps build ## Run every module's tests against real SoftHSM2, swtpm, moto and plugin subprocesses.
	@for m in $(MODULES); do \
		echo "== test $$m"; \
		(cd $$m && go test $(TESTFLAGS) ./...); \
	done
	@for m in $(NESTED); do \
		echo "== test $$m (GOWORK=off)"; \
		(cd $$m && GOWORK=off go test $(TESTFLAGS) ./...); \
	done

lint: ## gofmt, go vet and staticcheck on every module; gcc -fsyntax-only on the C front.
	@echo "== $(CC) -fsyntax-only $(CFRONT)"
	@$(CC) -fsyntax-only $(CFRONT_CFLAGS) $(CFRONT)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	@for m in $(MODULES); do \
		echo "== vet $$m"; \
		(cd $$m && go vet ./... && staticcheck ./...); \
	done
	@for m in $(NESTED); do \
		echo "== vet $$m (GOWORK=off)"; \
		(cd $$m && GOWORK=off go vet ./... && GOWORK=off staticcheck ./...); \
	done

man: ## Write man pages for every awskeep command into man/.
	@cd cmd && go run -tags mangen ./awskeep-full gen-man $(CURDIR)/man

docs: ## Regenerate docs/config-reference.md from the code (profile keys, variables, every flag).
	@cd cmd && go run -tags docgen ./awskeep-full gen-reference $(CURDIR)/docs/config-reference.md

fmt: ## Format all Go code.
	@gofmt -w $$(git ls-files '*.go')

generate: ## Regenerate the plugin protocol's Go code with protoc and the pinned plugins.
	@cd plugins && protoc -I proto \
		--go_out=. --go_opt=module=github.com/awskeep/awskeep/plugins \
		--go-grpc_out=. --go-grpc_opt=module=github.com/awskeep/awskeep/plugins \
		proto/awskeep/plugin/v1/backend.proto

check-generate: generate docs ## Fail when the committed generated code or docs/config-reference.md is stale.
	@git diff --exit-code -- plugins/internal/pb || { echo "generated code is stale: run make generate and commit"; exit 1; }
	@git diff --exit-code -- docs/config-reference.md || { echo "docs/config-reference.md is stale: run make docs and commit"; exit 1; }
	@git ls-files --error-unmatch docs/config-reference.md >/dev/null 2>&1 || { echo "docs/config-reference.md is not committed: run make docs and commit"; exit 1; }
	@untracked=$$(git ls-files --others --exclude-standard plugins/internal/pb); \
	if [ -n "$$untracked" ]; then echo "uncommitted generated files: $$untracked"; exit 1; fi

bench: deps build ## Run all benchmarks in one run; print the table and write bench/results.md.
	@scripts/bench.sh

fuzz: ## Run every fuzz target for FUZZTIME (default 10s) each.
	@scripts/fuzz.sh $(FUZZTIME) $(MODULES)

demo: deps build ## The main job end to end on a local SoftHSM2 token and moto.
	@scripts/demo.sh

release: deps ## Build a release of HEAD into dist/: binaries, SBOMs, deb and rpm, SHA256SUMS.
	@scripts/release.sh dist

package: ## Rebuild dist/'s deb and rpm packages and SHA256SUMS from its binaries.
	@scripts/package.sh dist

package-test: release ## Install the debs in a throwaway root; lintian; run them on SoftHSM2 and moto.
	@scripts/package-test.sh dist

release-test: deps ## make release twice (byte-identical?); run every binary (arm64 under qemu).
	@scripts/release-test.sh dist

clean: ## Remove build output, demo state, release and tools.
	rm -rf $(BIN) demo .tools man dist
