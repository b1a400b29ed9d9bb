# Every tool runs at a pinned version through `go run`: a fresh machine with
# Go needs nothing else.
GO          ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.7.0
FUZZTIME    ?= 5s

.PHONY: all demo test fuzz generate check-generated lint ci

all: test

## demo: run the command-line demo against the embedded fake server
demo:
	$(GO) run ./cmd/signintokens demo

## test: all tests with the race detector, then short fuzz runs
test:
	$(GO) test -race -count=1 ./...
	$(MAKE) fuzz FUZZTIME=$(FUZZTIME)

## fuzz: run each fuzz target for FUZZTIME
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzAnswer$$' -fuzztime $(FUZZTIME) ./client
	$(GO) test -run '^$$' -fuzz '^FuzzRevokeID$$' -fuzztime $(FUZZTIME) ./client

## generate: regenerate package gen from openapi.yaml
generate:
	$(GO) generate ./...
	$(GO) mod tidy

## check-generated: fail if gen, go.mod or go.sum differ from a fresh generation
check-generated: generate
	$(GO) build ./...
	@git diff --exit-code -- gen go.mod go.sum || \
		{ echo 'gen/ is out of date: run `make generate` and commit the result' >&2; exit 1; }
	@test -z "$$(git status --porcelain -- gen)" || \
		{ git status --porcelain -- gen; echo 'gen/ has files git does not track: commit them' >&2; exit 1; }

## lint: gofmt, go vet and staticcheck
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
		test -z "$$unformatted" || { echo "gofmt would change:"; echo "$$unformatted"; exit 1; } >&2
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

## ci: everything CI checks
ci: check-generated test lint
