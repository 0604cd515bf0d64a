#!/usr/bin/env bash
# `make bench`: builds the seven functions and a hello-world lambda_runtime binary with the release
# profile, packages the arm64 zips (for their sizes), starts DynamoDB Local and moto on free ports,
# creates and seeds a table, and runs tools/bench against them. Prints a table and writes
# target/bench/report.json. Arguments go to the bench (e.g. make bench ARGS="--starts 50").
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
unset KITCHEN_DATA_DIR

bash scripts/bootstrap.sh
export PATH="$ROOT/.venv/bin:$PATH"

# The zips whose sizes the report gives; BENCH_SKIP_PACKAGE=1 reuses whatever target/lambda holds.
if [[ "${BENCH_SKIP_PACKAGE:-0}" != 1 ]]; then
    bash scripts/package.sh
fi

echo "bench: cargo build --release (the seven functions, hello-lambda, the bench)" >&2
cargo build --release --locked \
    -p auth -p dishes -p orders -p payments -p admin -p paystack-webhook -p notifier \
    -p hello-lambda -p kitchen-bench
echo "bench: cargo build -p devkit --bin kitchen-local" >&2
cargo build --locked -p devkit --bin kitchen-local

# shellcheck source=scripts/standins.sh
source scripts/standins.sh
standins_stop_on_exit
standins_start_aws_on_free_ports
export TABLE_NAME=kitchen-bench
export TOPIC_ARN="arn:aws:sns:us-east-1:123456789012:kitchen-bench-events"
# Development keys (tools/dev-keys/README.md), handed to the functions in the environment.
TOKEN_SIGNING_KEY="$(cat tools/dev-keys/token-signing-dev.pem)"
TOKEN_PUBLIC_KEYS="$(cat tools/dev-keys/token-public-dev.pem)"
CURSOR_KEY="$(cat tools/dev-keys/cursor-dev.key)"
export TOKEN_SIGNING_KEY TOKEN_PUBLIC_KEYS CURSOR_KEY
export PAYSTACK_SECRET_KEY=sk_test_bench_secret
export KITCHEN_PHONE=+2348000000000
# The stack's parameters without a default (the bench sets the Paystack simulator's URL itself).
export KITCHEN_PARAM_PaystackCallbackUrl=http://127.0.0.1/paid
export ADMIN_EMAIL=admin@bench.local
export ADMIN_PASSWORD=bench-admin-123

"${CARGO_TARGET_DIR:-$ROOT/target}/debug/kitchen-local" setup
"${CARGO_TARGET_DIR:-$ROOT/target}/release/kitchen-bench" \
    --bin-dir "${CARGO_TARGET_DIR:-$ROOT/target}/release" \
    --zip-dir "${CARGO_TARGET_DIR:-$ROOT/target}/lambda" \
    --out "${CARGO_TARGET_DIR:-$ROOT/target}/bench/report.json" "$@"
