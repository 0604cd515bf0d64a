#!/usr/bin/env bash
# `make test`: openapi/openapi.json checked against its generator, the tests of template.yaml's
# inline Python, format check, clippy, then every test of the workspace against its own DynamoDB
# Local and moto on free ports, which are stopped again however the run ends, then a short,
# reproducible fuzz of the whole local API from its OpenAPI document (scripts/fuzz.sh --quick;
# KITCHEN_FUZZ=0 skips it). Arguments go to the test runner (cargo nextest run, or cargo test where
# nextest is not installed).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# Tests always start from empty in-memory stand-ins, whatever a developer keeps for `make dev`.
unset KITCHEN_DATA_DIR

bash scripts/bootstrap.sh
export PATH="$ROOT/.venv/bin:$PATH"

# openapi/openapi.json is generated: a hand edit of it, or a change to gen.py without a run of it,
# fails here instead of drifting from its source.
echo "test: openapi/openapi.json is what openapi/gen.py generates" >&2
generated="$(mktemp)"
if ! python3 openapi/gen.py "$generated" >/dev/null \
    || ! diff -u --label openapi/openapi.json --label "openapi/gen.py's output" \
        openapi/openapi.json "$generated" >&2; then
    rm -f "$generated"
    echo "test: error: openapi/openapi.json is not what openapi/gen.py generates (see above);" \
        "run python3 openapi/gen.py and commit openapi/openapi.json with gen.py" >&2
    exit 1
fi
rm -f "$generated"

# The inline Python of template.yaml (the SMS settings custom resource), read from the template and
# run against moto's SNS in-process: no stand-in needed.
echo "test: python3 -m unittest discover -s tests/template" >&2
PYTHONDONTWRITEBYTECODE=1 python3 -m unittest discover -s tests/template

# shellcheck source=scripts/standins.sh
source scripts/standins.sh

standins_stop_on_exit
standins_start_aws_on_free_ports
# The Paystack simulator is not started here: tests run it in-process on a free port (paystack_sim),
# each with the webhook URL and secret it needs.

echo "test: cfn-lint template.yaml" >&2
cfn-lint template.yaml
echo "test: python3 -m unittest discover -s tests/scripts (the scripts' own tests)" >&2
python3 -m unittest discover -s tests/scripts
echo "test: cargo fmt --all -- --check" >&2
cargo fmt --all -- --check
echo "test: cargo clippy --workspace --all-targets -- -D warnings" >&2
cargo clippy --workspace --all-targets -- -D warnings

# Every IAM grant a test's function call used is recorded here (tools/devkit/src/iam.rs), and so is
# every one the fuzzed local stack's functions used (its IAM gate inherits the variable); a full run
# ends by listing the grants of template.yaml that nothing used, and fails if there are any.
export KITCHEN_IAM_USAGE_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/iam-usage"
rm -rf "$KITCHEN_IAM_USAGE_DIR"
mkdir -p "$KITCHEN_IAM_USAGE_DIR"

# --no-tests=fail: a run that finds no test is a failure, not a pass.
if cargo nextest --version >/dev/null 2>&1; then
    echo "test: cargo nextest run --workspace --no-tests=fail $*" >&2
    cargo nextest run --workspace --no-tests=fail "$@"
else
    echo "test: cargo test --workspace $* (cargo-nextest not installed)" >&2
    cargo test --workspace "$@"
fi

# The API as a client sees it: the whole local stack (as `make dev` runs it) fuzzed from
# openapi/openapi.json. It starts stand-ins of its own, so these are stopped first.
if [[ "${KITCHEN_FUZZ:-1}" != 0 ]]; then
    standins_stop
    echo "test: scripts/fuzz.sh --quick" >&2
    bash scripts/fuzz.sh --quick
fi

# Least privilege the other way round: only a run of every test (no filter) has seen every call.
if [[ $# -eq 0 ]]; then
    echo "test: kitchen-local iam-report (grants of template.yaml that no call used)" >&2
    cargo build -p devkit --bin kitchen-local
    KITCHEN_PARAM_PaystackCallbackUrl=http://127.0.0.1/paid \
        "${CARGO_TARGET_DIR:-$ROOT/target}/debug/kitchen-local" iam-report "$KITCHEN_IAM_USAGE_DIR"
fi
