# mochi build and test entry points. `make help` lists the targets.

GO       ?= go
BIN      := bin/mochi
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
# Whole-run limit for go test; difftest alone is meant to stay under ~8 minutes on 2 cores.
TEST_TIMEOUT ?= 20m
# Extra flags for go test, e.g. make test TESTFLAGS='-run Difftest -v'.
TESTFLAGS ?=

export CGO_ENABLED := 0
# difftest/ and other end-to-end tests run this binary.
export MOCHI_BIN := $(CURDIR)/$(BIN)

.PHONY: all build test lint vet fmt test-reliability bench demo clean help

all: build

help:
	@echo "make build             static bin/mochi (CGO_ENABLED=0, -trimpath, version $(VERSION))"
	@echo "make test              go vet + go test ./... (engine tests need MOCHI_TEST_ENGINES=docker)"
	@echo "make lint              gofmt -l + go vet"
	@echo "make test-reliability  go test -run Reliability ./..."
	@echo "make bench             bench/*.sh: mochi against the reference CLI, markdown tables"
	@echo "make demo              build and bring up examples/hello"

# Always rebuilt (go's own cache makes that cheap): a stale binary would make difftest lie.
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/mochi

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

test: build vet
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) $(TESTFLAGS) ./...

# Reliability tests (repeated up/exec/stop cycles, crash recovery) are named TestReliability*.
# None exist yet, so this target currently runs no test; it is here so CI and people have one
# name to call once they do.
test-reliability: build
	@echo "test-reliability: running tests named Reliability* (none may exist yet)"
	$(GO) test -count=1 -timeout 30m -run Reliability $(TESTFLAGS) ./...

bench: build
	@bash bench/up.sh
	@bash bench/exec.sh

demo: build
	./$(BIN) up --workspace-folder examples/hello

clean:
	rm -rf bin
