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
# Tests that run `mochi up` must not leave a gateway running behind them; the tests of the
# gateway itself clear this.
export MOCHI_NO_SERVER := 1
# difftest/ and other end-to-end tests run this binary.
export MOCHI_BIN := $(CURDIR)/$(BIN)

.PHONY: all build test lint vet fmt test-lxc test-reliability test-ide bench demo clean help

all: build

help:
	@echo "make build             static bin/mochi (CGO_ENABLED=0, -trimpath, version $(VERSION))"
	@echo "make test              go vet + go test ./... (engine tests need MOCHI_TEST_ENGINES=docker, or docker,lxc as CI)"
	@echo "make test-lxc          only the LXC tests: provider, images, lifecycle and difftest on LXC (needs root, lxc-net)"
	@echo "make lint              gofmt -l + go vet"
	@echo "make test-reliability  go test -run Reliability ./..."
	@echo "make test-ide          go test ./idetest (IDE clients end to end; needs scripts/install-ide-deps.sh)"
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

# With lxc in MOCHI_TEST_ENGINES, make test also runs them (difftest's TestDifftestLXC runs every
# case with mochi on LXC against the reference's golden observations); this is the short way in.
test-lxc: build
	MOCHI_TEST_ENGINES=docker,lxc $(GO) test -count=1 -timeout $(TEST_TIMEOUT) $(TESTFLAGS) ./providers/lxc ./image
	MOCHI_TEST_ENGINES=docker,lxc $(GO) test -count=1 -timeout $(TEST_TIMEOUT) -run LXC $(TESTFLAGS) ./workspace ./difftest

# Reliability tests (hostile configs, crashes, concurrency, faults, gateway load, security) are
# named TestReliability* and skip unless RELIABILITY=1 or -run names Reliability; see
# RELIABILITY.md. They need the Docker engine (MOCHI_TEST_ENGINES defaults to docker here).
test-reliability: build
	RELIABILITY=1 MOCHI_NO_SERVER= MOCHI_TEST_ENGINES=$${MOCHI_TEST_ENGINES:-docker} \
		$(GO) test -count=1 -timeout 40m -run Reliability $(TESTFLAGS) ./...

test-ide: build
	bash scripts/install-ide-deps.sh
	MOCHI_NO_SERVER= MOCHI_TEST_ENGINES=$${MOCHI_TEST_ENGINES:-docker} $(GO) test -count=1 -v -timeout 20m $(TESTFLAGS) ./idetest

bench: build
	@bash bench/up.sh
	@bash bench/exec.sh
	@bash bench/features.sh
	@bash bench/compose.sh
	@bash bench/ssh.sh
	@bash bench/lxc.sh
	@bash bench/ide.sh

demo: build
	./$(BIN) up --workspace-folder examples/hello

clean:
	rm -rf bin
