# tangkal: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
GO ?= go
FUNCTIONS := $(notdir $(wildcard functions/*))
BUILD_DIR ?= build
GOBUILD_LAMBDA = CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags "-s -w"

.PHONY: run test lint build bench conformance deps check-tools check-lint-tools browser clean

## run: start the local stack in the foreground (Ctrl-C stops it cleanly)
## The binary is built, then exec'd: it gets Ctrl-C and make's SIGTERM itself
## (`go run` would stand between them and leave it running or report an error).
run: deps
	@mkdir -p $(BUILD_DIR) && $(GO) build -o $(BUILD_DIR)/tangkal ./cmd/tangkal
	@exec $(BUILD_DIR)/tangkal run $(ARGS)

## test: go test -race ./... against DynamoDB Local, in two runs: every package but the local stack's
## end-to-end tests (one DynamoDB Local shared), then those tests on a DynamoDB Local of their own. They
## run whole workflows against the functions' template timeouts; on a small machine, sharing the CPU and
## DynamoDB Local with the engine's and restart tests stretched single DynamoDB calls past those timeouts.
## (the console's browser tests need Chromium: installed here when root, else they say what to install)
STACK_TESTS := ./internal/localstack
test: deps browser
	$(GO) run ./cmd/tangkal with-dynamodb -- $(GO) test -race -count=1 -timeout 25m $$($(GO) list ./... | grep -vx '$(shell $(GO) list $(STACK_TESTS))')
	$(GO) run ./cmd/tangkal with-dynamodb -- $(GO) test -race -count=1 -timeout 25m $(STACK_TESTS)

## lint: gofmt, go vet, cfn-lint on template.yaml, asl-validator on workflows, and the deploy checks:
## template.yaml transformed offline by the SAM translator (infra/samtransform.py), every AWS call each
## function can reach granted to its role, logs kept, alarms, locked evidence (internal/deploycheck)
lint: check-lint-tools deps
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cfn-lint template.yaml
	TANGKAL_REQUIRE_SAM_TRANSLATOR=1 $(GO) test -count=1 ./internal/deploycheck/
	@for f in workflows/*.asl.json; do echo "asl-validator $$f"; npx --prefix infra --no-install asl-validator --json-path "$$f" || exit 1; done

## bench: benchmarks against DynamoDB Local
bench: deps
	$(GO) run ./cmd/tangkal with-dynamodb -- $(GO) test -p 1 -timeout 30m -run '^$$' -bench . -benchtime 3s ./...

## conformance: the Step Functions conformance suite on our engine, compared with moto's interpreter
## (skipped when python3 has no moto; `make test` already checks our engine against the expected values)
CONFORMANCE_FLAGS ?=
conformance: deps
	@if python3 -c 'import moto' >/dev/null 2>&1; then \
		TANGKAL_CONFORMANCE_MOTO=1 $(GO) run ./cmd/tangkal with-dynamodb -- \
			$(GO) test -race -count=1 $(CONFORMANCE_FLAGS) ./internal/conformance/; \
	else \
		echo "conformance: skipped (python3 with moto not found)"; \
	fi

## build: every function as a linux/arm64 bootstrap, zipped, in build/
build: $(addprefix $(BUILD_DIR)/,$(addsuffix .zip,$(FUNCTIONS)))

$(BUILD_DIR)/%.zip: FORCE
	@mkdir -p $(BUILD_DIR)/$*
	$(GOBUILD_LAMBDA) -o $(BUILD_DIR)/$*/bootstrap ./functions/$*
	cd $(BUILD_DIR)/$* && rm -f ../$*.zip && zip -q -X ../$*.zip bootstrap
.PHONY: FORCE
FORCE:

# SAM `BuildMethod: makefile` calls build-<LogicalId> with ARTIFACTS_DIR set:
# build-SubmitReportFunction builds ./functions/submitreport.
build-%Function:
	$(GOBUILD_LAMBDA) -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(shell echo $* | tr 'A-Z' 'a-z')

## deps: check java and npm, install the pinned npm packages under infra/
deps: check-tools infra/node_modules/.installed

check-tools:
	@command -v $(GO) >/dev/null || { echo "go not found: install Go 1.26 or newer"; exit 1; }
	@command -v java >/dev/null || { echo "java not found: install a Java runtime 17 or newer (Debian/Ubuntu: apt-get install openjdk-17-jre-headless)"; exit 1; }
	@command -v npm >/dev/null || { echo "npm not found: install Node.js 20 or newer with npm (Debian/Ubuntu: apt-get install nodejs npm)"; exit 1; }

check-lint-tools:
	@command -v cfn-lint >/dev/null || { echo "cfn-lint not found: install it with pip install cfn-lint (or pipx install cfn-lint)"; exit 1; }

infra/node_modules/.installed: infra/package.json infra/package-lock.json
	npm ci --prefix infra --no-audit --no-fund --loglevel=error
	@touch $@

## browser: Debian's headless Chromium for the console's browser tests (root only; others are told)
browser:
	@if command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing chromium for the console's browser tests"; \
		(apt-get install -y -qq chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)) || exit 1; \
	else echo "chromium not found: the console's browser tests skip (install it: sudo apt-get install -y chromium)"; fi

clean:
	rm -rf $(BUILD_DIR) .aws-sam
