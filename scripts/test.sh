#!/usr/bin/env bash
# `make test`: format check, clippy, then every test of the workspace against its own DynamoDB Local
# and moto on free ports, which are stopped again however the run ends, then a short, reproducible
# fuzz of the whole local API from its OpenAPI document (scripts/fuzz.sh --quick; KITCHEN_FUZZ=0
# skips it). Arguments go to the test runner (cargo nextest run, or cargo test where nextest is not
# installed).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# Tests always start from empty in-memory stand-ins, whatever a developer keeps for `make dev`.
unset KITCHEN_DATA_DIR

bash scripts/bootstrap.sh
export PATH="$ROOT/.venv/bin:$PATH"

# shellcheck source=scripts/standins.sh
source scripts/standins.sh

on_exit() {
    local status=$?
    # Nothing may cut the cleanup short: not a second Ctrl-C, nor a closed pipe (make dev | tee)
    # making the messages below fail.
    trap '' INT TERM HUP PIPE
    set +e
    standins_stop
    exit "$status"
}
trap on_exit EXIT
# The EXIT trap does the stopping; these only turn a signal into an exit with the usual status.
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Free ports, so a running `make dev` (or a second `make test`) does not collide with this run.
read -r dynamodb_port moto_port < <(free_port 2)
[[ -n "${moto_port:-}" ]] || { echo "test: could not find free ports" >&2; exit 1; }
standins_start_dynamodb "$dynamodb_port"
standins_start_moto "$moto_port"
# The Paystack simulator is not started here: tests run it in-process on a free port (paystack_sim),
# each with the webhook URL and secret it needs.

export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$dynamodb_port"
export AWS_ENDPOINT_URL_SNS="http://127.0.0.1:$moto_port"
export AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=local
export AWS_SECRET_ACCESS_KEY=local
export AWS_EC2_METADATA_DISABLED=true
# A developer's own AWS credentials or profile must not leak into the tests.
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE

echo "test: cfn-lint template.yaml" >&2
cfn-lint template.yaml
echo "test: cargo fmt --all -- --check" >&2
cargo fmt --all -- --check
echo "test: cargo clippy --workspace --all-targets -- -D warnings" >&2
cargo clippy --workspace --all-targets -- -D warnings

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
