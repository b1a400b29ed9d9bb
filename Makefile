# Every tool runs at a pinned version through `go run`: a fresh machine with
# Go needs nothing else.
GO          ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
ACTIONLINT  := github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
BENCHSTAT   := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
GOVULNCHECK := golang.org/x/vuln/cmd/govulncheck@v1.9.0
# The vulnerability database vulncheck builds when VULNDB=local.
VULNDB_VERSION := v0.0.0-20261105234957-e22db6528018
BENCHCOUNT  ?= 10
# A count, not a duration: Go 1.26's fuzzing coordinator can report the end of
# a duration -fuzztime as a failure ("context deadline exceeded", with no
# failing input; go.dev/issue/75804, fixed in Go 1.27). 20000x is a few
# seconds per target on this machine.
FUZZTIME    ?= 20000x
# How long one package's tests may run before go test fails them, naming the
# test that hung: the slowest package takes about a minute under -race on a
# loaded 2-core machine, so a hang fails in minutes, not Go's default 10.
TESTTIMEOUT ?= 5m


.PHONY: api-check
.PHONY: all help download demo test vulncheck fuzz bench bench-bulk bench-fleet bench-rounds bench-instructions spec-diff generate check-generated lint ci contract live-test

all: test

## help: list the targets and what each does
help:
	@awk '/^## [a-z-]+:/ { sub(/^## /, ""); n = index($$0, ":"); printf "  %-20s%s\n", substr($$0, 1, n - 1), substr($$0, n + 1); next } \
		/^## / { sub(/^## /, ""); printf "  %-20s %s\n", "", $$0 }' $(firstword $(MAKEFILE_LIST))

# The race detector needs cgo, and so a C compiler: CC as make, the
# environment or go env names it. Without one, or with CGO_ENABLED=0, the
# tests run with cgo off and without -race, and the demo builds without cgo.
CC_USED := $(if $(filter default,$(origin CC)),$(shell $(GO) env CC),$(CC))
CGO_WHY := $(shell if [ "$(CGO_ENABLED)" = 0 ]; then echo 'CGO_ENABLED=0'; \
	elif ! command -v $(firstword $(CC_USED)) >/dev/null 2>&1; then echo 'no C compiler ($(CC_USED) is not there)'; fi)
RACE    := $(if $(CGO_WHY),,-race)
NO_CGO  := $(if $(CGO_WHY),CGO_ENABLED=0)

## download: the modules go.mod pins, into the module cache (once per machine;
## test and demo run it)
download:
	@[ -n "$$($(GO) list -m -f '{{.Dir}}' github.com/oapi-codegen/oapi-codegen/v2)" ] || { \
		echo "make: downloading the modules go.mod pins into $$($(GO) env GOMODCACHE) (once per machine)" >&2; \
		$(GO) mod download; }

## demo: run the command-line demo against the embedded fake server
demo: download
	$(NO_CGO) $(GO) run ./cmd/signintokens demo

## test: all tests with the race detector (when a C compiler is there), the
## allocation counts and each benchmark once without it,
## short runs of the fuzz targets, and the spec-diff tool's tests
test: download
	@[ -n "$(RACE)" ] || echo 'make test: $(CGO_WHY), so cgo is off: the tests run without the race detector' >&2
	$(NO_CGO) $(GO) test $(RACE) -count=1 -timeout $(TESTTIMEOUT) ./...
	$(NO_CGO) $(GO) test -run '[Aa]llocs' -bench . -benchtime 1x -timeout $(TESTTIMEOUT) ./...
	$(NO_CGO) $(MAKE) fuzz FUZZTIME=$(FUZZTIME)
	cd tools/specdiff && $(NO_CGO) $(GO) test -count=1 -timeout $(TESTTIMEOUT) ./...

## bench: the benchmarks BENCHCOUNT times, then benchstat's raw-versus-client table
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCHCOUNT) ./client | tee bench.txt
	$(GO) run $(BENCHSTAT) -col /impl bench.txt

## fuzz: run every fuzz target of every package for FUZZTIME (found by go test
## -list, so a new one runs without a change here)
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for target in $$($(GO) test -list '^Fuzz' "$$pkg" | grep '^Fuzz'); do \
			echo "$(GO) test -run '^\$$' -fuzz '^$$target\$$' -fuzztime $(FUZZTIME) $$pkg"; \
			$(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) "$$pkg" || exit 1; \
		done; \
	done

## bench-rounds: ROUNDS interleaved rounds of the client benchmarks, ROUNDTIME each
## (impl=raw and impl=client back to back in each round, so both meet the same
## load, impl=raw first in odd rounds and last in even ones), then each
## benchmark's median of per-round client/raw ns/op ratios
ROUNDS      ?= 20
ROUNDTIME   ?= 300ms
ROUND_BENCH ?= ^Benchmark(Create|Revoke|CreateNotFound|LoopbackCreate|LoopbackRevoke)$$
bench-rounds:
	@bin=$$(mktemp); trap 'rm -f $$bin' EXIT; $(GO) test -c -o $$bin ./client || exit 1; \
	for i in $$(seq $(ROUNDS)); do \
		order=; [ $$((i % 2)) = 0 ] && order=-clientfirst; \
		$$bin -test.run '^$$' -test.bench '$(ROUND_BENCH)' -test.benchmem -test.benchtime $(ROUNDTIME) $$order || exit 1; \
	done > bench-rounds.txt
	$(GO) run ./internal/benchratio < bench-rounds.txt

## bench-bulk: connections opened and CPU per request of 100,000 bulk creates
## against fake-server in another process (needs strace and GNU time)
bench-bulk:
	scripts/bench-bulk.sh 100000 8

## bench-fleet: four bulk runs sharing one key against a fake limited to 100
## requests a second, at --rate 90 each: 429s and wall time with the rate shared
## through Redis and without (needs redis-server)
bench-fleet:
	scripts/bench-fleet.sh

## bench-instructions: instructions per op under callgrind (needs valgrind): the
## difference between runs of 4000 and 2000 ops, so start-up cost cancels; steadier
## than ns/op on a busy machine. GOGC=off makes counts repeat (the collector's work
## is left out); asyncpreemptoff keeps callgrind from aborting on Go's preemption
## signal. Patterns are anchored, so Create does not also run CreateNotFound.
INSTR_BENCHES := Create Revoke CreateNotFound BuildCreateRequest BuildRevokeRequest
bench-instructions:
	@command -v valgrind >/dev/null || { echo 'bench-instructions needs valgrind (apt-get install valgrind)' >&2; exit 2; }
	@bin=$$(mktemp); trap 'rm -f $$bin' EXIT; $(GO) test -c -o $$bin ./client || exit 1; \
	for b in $(INSTR_BENCHES); do for impl in raw client; do \
		for n in 2000 4000; do \
			GOGC=off GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
				$$bin -test.run '^$$' -test.bench "^Benchmark$$b$$/^impl=$$impl$$" -test.benchtime $${n}x 2>&1 >/dev/null | \
				sed -n 's/.*Collected : \([0-9]*\).*/\1/p'; \
		done | { read a; read c; \
			if [ -z "$$a" ] || [ -z "$$c" ] || [ "$$c" -le "$$a" ]; then \
				echo "bench-instructions: no count for $$b/$$impl (callgrind failed?)" >&2; exit 1; fi; \
			printf '%-20s %-7s %8d instructions/op\n' $$b $$impl $$(( (c - a) / 2000 )); } || exit 1; \
	done; done

## spec-diff: how the two operations (and what they use) differ in UPSTREAM, a Clerk
## OpenAPI file, from openapi.yaml, by oasdiff (tools/specdiff, a module of its own,
## pinned there); fails on any difference that spec-allow.yaml does not allow
spec-diff:
	@test -n "$(UPSTREAM)" || { echo 'spec-diff: usage error: make spec-diff UPSTREAM=path/to/clerk-bapi.yml' >&2; exit 2; }
	@bin=$$(mktemp -d); trap 'rm -rf $$bin' EXIT; (cd tools/specdiff && $(GO) build -o $$bin/specdiff .) && \
		$$bin/specdiff -allow spec-allow.yaml openapi.yaml "$(UPSTREAM)"

## contract: Clerk's own SDKs against the fake: clerk-sdk-go (pinned in contract/go,
## a module of its own) against clerktest, and it, this SDK and @clerk/backend (pinned in
## contract/node, installed with npm ci) against signintokens fake-server's exports as printed
contract:
	@command -v node >/dev/null && command -v npm >/dev/null || { \
		echo 'make contract: the @clerk/backend contract test needs Node.js 20.9 or newer and npm (apt-get install nodejs npm)' >&2; exit 2; }
	cd contract/node && npm ci --no-audit --no-fund --loglevel=error
	@bin=$$(mktemp -d); trap 'rm -rf $$bin' EXIT; $(GO) build -o $$bin/signintokens ./cmd/signintokens && \
		(cd contract/go && SIGNINTOKENS=$$bin/signintokens $(GO) test -count=1 -timeout $(TESTTIMEOUT) ./...) && \
		cd contract/node && SIGNINTOKENS=$$bin/signintokens node --test contract.test.mjs

## live-test: the contract scenarios against a real Clerk development instance, each
## answer's shape compared with clerktest's; needs CLERK_SECRET_KEY (sk_test_) and
## CLERK_LIVE_USER_ID, says it is skipped otherwise; never run by CI
live-test:
	cd contract/go && $(GO) test -count=1 -run '^TestLive$$' -v ./...

## generate: regenerate package gen from openapi.yaml
generate:
	$(GO) generate ./...
	$(GO) mod tidy

## check-generated: fail if gen, go.mod or go.sum differ from a fresh generation
check-generated: generate
	$(GO) build ./...
	@git diff --exit-code -- gen go.mod go.sum || \
		{ echo 'gen/ is out of date: run `make generate` and commit the result' >&2; exit 1; }
	@untracked=$$(git ls-files --others --exclude-standard -- gen); test -z "$$untracked" || \
		{ echo "$$untracked"; echo 'gen/ has files git does not track: add and commit them' >&2; exit 1; }
	@git diff --cached --quiet -- gen go.mod go.sum || { git diff --cached --stat -- gen go.mod go.sum; \
		echo 'gen/, go.mod or go.sum have changes staged but not committed: commit them' >&2; exit 1; }

## vulncheck: govulncheck on the module, tools/specdiff and contract/go. VULNDB
## is the database: local (the default) builds one from golang.org/x/vulndb,
## which the module proxy serves; the hosted workflow passes https://vuln.go.dev
VULNDB ?= local
vulncheck:
	GO='$(GO)' scripts/vulncheck.sh $(GOVULNCHECK) $(VULNDB_VERSION) '$(VULNDB)'

## lint: gofmt, go vet, staticcheck, and actionlint on the GitHub workflows
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
		test -z "$$unformatted" || { echo "gofmt would change:"; echo "$$unformatted"; exit 1; } >&2
	$(GO) vet ./...
	cd contract/go && $(GO) vet ./...
	cd tools/specdiff && $(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	$(GO) run $(ACTIONLINT) .github/workflows/*.yml

## api-check: fail when an exported name of client, clerktest or redislimit was
## removed or changed against the baseline in api/ (go run ./internal/apicheck
## -write records a deliberate change, which CHANGELOG.md then states)
api-check:
	$(GO) run ./internal/apicheck

## ci: everything CI checks
ci: check-generated api-check test contract lint
