# Developer commands. The work is in scripts/; each script installs what it needs on first use.
.DEFAULT_GOAL := help
.PHONY: help dev test package fuzz load bench invoke google-token

# Extra arguments for the test runner, e.g. make test ARGS="-p kitchen" or ARGS="--no-capture".
ARGS ?=

help:
	@echo "make dev    run the API on http://127.0.0.1:9000 with DynamoDB Local, moto and the Paystack simulator (Ctrl-C stops all)"
	@echo "make test   cargo fmt --check, clippy, every test against fresh stand-ins on free ports, then a short"
	@echo "            fuzz of the local API (scripts/fuzz.sh --quick; KITCHEN_FUZZ=0 skips it)"
	@echo "            (extra test-runner arguments: make test ARGS=\"...\")"
	@echo "            the first run of make dev or make test installs DynamoDB Local and the .venv tools,"
	@echo "            printing each step (about a minute); what the machine needs: README.md, Prerequisites"
	@echo "make invoke EVENT=events/<function>/<event>.json   hands a sample event to that function of a running"
	@echo "            make dev (e.g. events/orders/sweep-unpaid-orders.json runs the unpaid-order sweep now)"
	@echo "make google-token EMAIL=ada@example.com [GIVEN_NAME=Ada FAMILY_NAME=Obi]   prints a Google ID token for"
	@echo "            that email, signed with the development key make dev trusts (for POST /auth/google; valid 1 h)"
	@echo "make package  release zips of the seven functions for arm64 Lambda (target/lambda/<function>/bootstrap.zip)"
	@echo "              and a table of their sizes; fails if one is over 4 MB"
	@echo "make fuzz   schemathesis against the whole local stack from openapi/openapi.json, long run with call"
	@echo "            sequences (reports in .kitchen/fuzz/; arguments to schemathesis: make fuzz ARGS=\"...\")"
	@echo "make bench  cold starts, warm overhead, table round trips, memory and zip sizes of the release builds"
	@echo "            (target/bench/report.json; arguments to the bench: make bench ARGS=\"--starts 50\")"
	@echo "make load   32 simulated customers for 60 s against a release build of the local stack, then DynamoDB"
	@echo "            and Paystack faults; checks the table's invariants (LOAD_CUSTOMERS, LOAD_DURATION, LOAD_FAULTS=0)"

dev:
	bash scripts/dev.sh

test:
	bash scripts/test.sh $(ARGS)

package:
	bash scripts/package.sh

fuzz:
	bash scripts/fuzz.sh $(ARGS)

load:
	bash scripts/load.sh

bench:
	bash scripts/bench.sh $(ARGS)

# The function is the event's folder: events/orders/sweep-unpaid-orders.json goes to orders.
invoke:
	@test -n "$(EVENT)" || { echo "usage: make invoke EVENT=events/<function>/<event>.json"; exit 2; }
	.venv/bin/cargo-lambda lambda invoke "$$(basename "$$(dirname "$(EVENT)")")" \
		-A 127.0.0.1 -P "$${API_PORT:-9000}" --data-file "$(EVENT)"

# A Google ID token for EMAIL, signed with the development key that make dev trusts (tools/dev-keys/).
google-token:
	@test -n "$(EMAIL)" || { echo "usage: make google-token EMAIL=ada@example.com [GIVEN_NAME=Ada FAMILY_NAME=Obi]" >&2; exit 2; }
	@cargo run -q -p devkit --bin kitchen-local -- google-token "$(EMAIL)" "$(GIVEN_NAME)" "$(FAMILY_NAME)"
