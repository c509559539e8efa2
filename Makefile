# comfyrt — the two commands are `make run` and `make test`; both set up what
# a fresh Debian 12 machine lacks first (scripts/setup.sh, idempotent).

GO        ?= go
BIN       := bin/comfyrt
PKGS      := ./...
# Packages with goroutines run under the race detector.
RACE_PKGS := ./graph/... ./nodes/... ./internal/...
FUZZTIME  ?= 30s

.PHONY: all setup build run test check vet fuzz bench clean

all: build

setup:
	@bash scripts/setup.sh

build: setup
	$(GO) build -o $(BIN) ./cmd/comfyrt

# The default job. Until the video executor lands it validates the bundled
# example workflows, converts the UI-format ones, prints the plan of the
# text-highlight workflow and runs it on a real picture (out.png).
run: build
	./$(BIN) validate workflows/*.json workflows/ui/*.json
	@for f in workflows/ui/*.json; do \
		echo "== comfyrt convert $$f"; \
		./$(BIN) convert "$$f" >/dev/null || exit 1; \
		echo "ok"; \
	done
	./$(BIN) compile workflows/text-highlight-api.json
	./$(BIN) run --workflow workflows/text-highlight-api.json -i .cache/media/imageTextN.png -o out.png

test: setup check
	$(GO) test -count=1 $(PKGS)
	$(GO) test -count=1 -race $(RACE_PKGS)

# Static checks that are part of `make test`.
check: vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt -l:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)
	CGO_ENABLED=0 $(GO) vet $(PKGS)
	CGO_ENABLED=0 $(GO) build $(PKGS)
	$(GO) tool staticcheck $(PKGS)

fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzParseAPI -fuzztime=$(FUZZTIME) ./graph
	$(GO) test -run='^$$' -fuzz=FuzzParseUI -fuzztime=$(FUZZTIME) ./graph
	$(GO) test -run='^$$' -fuzz=FuzzConvert -fuzztime=$(FUZZTIME) ./graph
	$(GO) test -run='^$$' -fuzz=FuzzValidate -fuzztime=$(FUZZTIME) ./graph/validate
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=$(FUZZTIME) ./nodes/schema
	$(GO) test -run='^$$' -fuzz=FuzzDecode -fuzztime=$(FUZZTIME) ./internal/jsonx

bench:
	$(GO) test -run='^$$' -bench=. -benchmem -count=5 $(PKGS) | tee bench.txt

clean:
	rm -rf bin
