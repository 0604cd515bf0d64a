#!/usr/bin/env bash
# `make dev`: the whole API on this machine. Builds the workspace, starts DynamoDB Local, moto and the
# Paystack simulator on 127.0.0.1, creates the table and topic and seeds a demo menu and an admin, then
# serves every function through `cargo lambda watch` until Ctrl-C, which stops everything it started.
#
# Options, from the environment (scripts/load.sh uses them):
#   KITCHEN_RELEASE=1       release builds (cargo build --release, cargo lambda watch --release)
#   KITCHEN_NO_RELOAD=1     functions are not rebuilt when a source file changes (--ignore-changes)
#   KITCHEN_CONCURRENCY=N   instances per function (cargo lambda watch --concurrency; default 1)
#   KITCHEN_LOG_FORMAT=json the functions' log lines as they print them (default pretty: readable,
#                           through scripts/dev-log.py)
#   KITCHEN_SKIP_BUILD=1    the caller has just built the workspace (in the same profile)
#   KITCHEN_STACK_FILE=f    where the ports and the stand-ins' pids are written (default
#                           .kitchen/stack-<API_PORT>.env), for a tool that stops and restarts a
#                           stand-in; the pids it lists when the stack stops are stopped too
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# A relative KITCHEN_DATA_DIR is taken from the current directory (the repository under `make dev`).
if [[ -n "${KITCHEN_DATA_DIR:-}" ]]; then
    mkdir -p "$KITCHEN_DATA_DIR"
    KITCHEN_DATA_DIR="$(cd "$KITCHEN_DATA_DIR" && pwd)"
    export KITCHEN_DATA_DIR
fi
cd "$ROOT"

API_PORT="${API_PORT:-9000}"
DYNAMODB_PORT="${DYNAMODB_PORT:-8000}"
MOTO_PORT="${MOTO_PORT:-4566}"
PAYSTACK_PORT="${PAYSTACK_PORT:-9100}"

bash scripts/bootstrap.sh
# cargo-lambda (and moto) come from the project's venv, not from whatever is installed globally.
export PATH="$ROOT/.venv/bin:$PATH"

# shellcheck source=scripts/standins.sh
source scripts/standins.sh

# Fail before building anything if a port is taken (a `make dev` still running elsewhere, say).
require_free_port "$API_PORT" "the API (API_PORT)"
require_free_port "$DYNAMODB_PORT" "DynamoDB Local (DYNAMODB_PORT)"
require_free_port "$MOTO_PORT" "moto (MOTO_PORT)"
require_free_port "$PAYSTACK_PORT" "the Paystack simulator (PAYSTACK_PORT)"

on_exit() {
    local status=$?
    # Nothing may cut the cleanup short: not a second Ctrl-C, nor a closed pipe (make dev | tee)
    # making the messages below fail.
    trap '' INT TERM HUP PIPE
    set +e
    echo >&2
    echo "dev: stopping the local stack" >&2
    standins_stop
    stop_replaced_standins
    exit "$status"
}

# A tool may have restarted a stand-in (scripts/load.sh does, to inject faults) and written its new
# pid to the stack file; such replacements are stopped too.
stop_replaced_standins() {
    [[ -n "${stack_file:-}" && -f "$stack_file" ]] || return 0
    local DYNAMODB_PID="" PAYSTACK_PID=""
    # shellcheck source=/dev/null
    source "$stack_file"
    if [[ -n "$DYNAMODB_PID" && "$DYNAMODB_PID" != "${dynamodb_pid:-}" ]]; then
        standins_track "$DYNAMODB_PID" "dynamodb-local (restarted)"
    fi
    if [[ -n "$PAYSTACK_PID" && "$PAYSTACK_PID" != "${paystack_pid:-}" ]]; then
        standins_track "$PAYSTACK_PID" "paystack-sim (restarted)"
    fi
    standins_stop
    rm -f "$stack_file"
}
trap on_exit EXIT
# The EXIT trap does the stopping; these only turn a signal into an exit with the usual status.
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# cargo lambda watch passes its own environment on to every function it starts (and adds the
# Lambda runtime variables), so exporting here is what configures the functions (RUST_LOG aside, see
# the end). Keep these out of [workspace.metadata.lambda.env]: values there would override these.
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$DYNAMODB_PORT"
export AWS_ENDPOINT_URL_SNS="http://127.0.0.1:$MOTO_PORT"
export AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=local
export AWS_SECRET_ACCESS_KEY=local
export AWS_EC2_METADATA_DISABLED=true
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE
export TABLE_NAME="${TABLE_NAME:-kitchen}"
export JWT_SECRET="${JWT_SECRET:-local-dev-jwt-secret-change-me-0123456789}"
export TOPIC_ARN="arn:aws:sns:us-east-1:123456789012:kitchen-events"
export PAYSTACK_BASE_URL="http://127.0.0.1:$PAYSTACK_PORT"
export PAYSTACK_SECRET_KEY="${PAYSTACK_SECRET_KEY:-sk_test_local_secret}"
# The kitchen's own phone gets an SMS for every paid order; locally it only lands in moto.
export KITCHEN_PHONE="${KITCHEN_PHONE:-+2348000000000}"
export ADMIN_EMAIL="${ADMIN_EMAIL:-admin@kitchen.local}"
export ADMIN_PASSWORD="${ADMIN_PASSWORD:-kitchen-admin-123}"
export RUST_LOG="${RUST_LOG:-info}"

build=(cargo build --workspace)
watch=(cargo lambda watch -A 127.0.0.1 -P "$API_PORT")
profile=debug
if [[ "${KITCHEN_RELEASE:-0}" == 1 ]]; then
    build+=(--release)
    watch+=(--release)
    profile=release
fi
if [[ "${KITCHEN_NO_RELOAD:-0}" == 1 ]]; then
    watch+=(--ignore-changes)
fi
if [[ -n "${KITCHEN_CONCURRENCY:-}" ]]; then
    watch+=(--concurrency "$KITCHEN_CONCURRENCY")
fi
bin_dir="${CARGO_TARGET_DIR:-$ROOT/target}/$profile"
stack_file="${KITCHEN_STACK_FILE:-$ROOT/.kitchen/stack-$API_PORT.env}"
dynamodb_pid=""
paystack_pid=""

# RUST_LOG reaches the functions through an env file in single quotes (see the end of this file).
if [[ "$RUST_LOG" == *"'"* || "$RUST_LOG" == *$'\n'* ]]; then
    echo "dev: error: RUST_LOG must not contain a single quote or a newline" >&2
    exit 1
fi

# Build everything now, so the first request does not wait for a compile.
if [[ "${KITCHEN_SKIP_BUILD:-0}" != 1 ]]; then
    echo "dev: ${build[*]}" >&2
    "${build[@]}"
fi

standins_start_dynamodb "$DYNAMODB_PORT"
dynamodb_pid="${KITCHEN_STANDIN_PIDS[-1]}"
standins_start_moto "$MOTO_PORT"
# Show each SMS the functions send through moto as it is sent, as a customer would get it.
setsid python3 scripts/sms-tail.py "$MOTO_PORT" </dev/null &
standins_track "$!" sms-tail

# The Paystack simulator (tools/paystack-sim), built above; its secret key comes from
# PAYSTACK_SECRET_KEY, and its signed charge.success webhooks go to the local API.
paystack_sim="$bin_dir/paystack-sim"
standins_start_http paystack-sim "http://127.0.0.1:$PAYSTACK_PORT/health" \
    "$paystack_sim" --port "$PAYSTACK_PORT" --webhook-url "http://127.0.0.1:$API_PORT/webhooks/paystack"
paystack_pid="${KITCHEN_STANDIN_PIDS[-1]}"

# What a tool needs to stop a stand-in and start it again the same way (same port, same data).
mkdir -p "$(dirname "$stack_file")"
{
    echo "# The local stack of scripts/dev.sh (pid $$); removed when it stops."
    echo "DEV_PID=$$"
    echo "API_PORT=$API_PORT"
    echo "DYNAMODB_PORT=$DYNAMODB_PORT"
    echo "MOTO_PORT=$MOTO_PORT"
    echo "PAYSTACK_PORT=$PAYSTACK_PORT"
    echo "DYNAMODB_PID=$dynamodb_pid"
    echo "PAYSTACK_PID=$paystack_pid"
    printf "PAYSTACK_SIM=%q\n" "$paystack_sim"
    printf "KITCHEN_DATA_DIR=%q\n" "${KITCHEN_DATA_DIR:-}"
    printf "KITCHEN_LOG_DIR=%q\n" "$KITCHEN_LOG_DIR"
} >"$stack_file"

# Table (key schema from template.yaml) and topic if absent, demo menu, admin user; prints a summary.
echo "dev: kitchen-local setup" >&2
"$bin_dir/kitchen-local" setup

# Order events reach the notifier as SNS delivers them in AWS: sns-relay (tools/devkit, built above)
# subscribes a queue to the topic and invokes the notifier through cargo lambda watch's Lambda Invoke
# API, printing a line per event. It starts before the API so that the subscription exists before
# any order can be placed; it holds events until the API answers.
sns_relay="$bin_dir/sns-relay"
API_PORT="$API_PORT" setsid "$sns_relay" </dev/null &
standins_track "$!" sns-relay

if [[ -n "${KITCHEN_DATA_DIR:-}" ]]; then
    data="kept in $KITCHEN_DATA_DIR"
else
    data="in memory (set KITCHEN_DATA_DIR=<folder> to keep it)"
fi
cat <<EOF

==================================================================================================
 Kitchen API, local stack
   API              http://127.0.0.1:$API_PORT   (same paths as in AWS; functions by cargo lambda watch)
   DynamoDB Local   http://127.0.0.1:$DYNAMODB_PORT   table $TABLE_NAME, data $data
   moto (SNS)       http://127.0.0.1:$MOTO_PORT   topic $TOPIC_ARN
                    sent SMS are printed here as [sms] lines, and kept in
                    http://127.0.0.1:$MOTO_PORT/moto-api/data.json  (under sns.SMS)
   Paystack (sim)   $PAYSTACK_BASE_URL   secret key $PAYSTACK_SECRET_KEY
                    webhooks to http://127.0.0.1:$API_PORT/webhooks/paystack; transactions: $PAYSTACK_BASE_URL/_sim/transactions
   admin login      $ADMIN_EMAIL / $ADMIN_PASSWORD
   logs             $KITCHEN_LOG_DIR/
 Ctrl-C stops everything.
==================================================================================================

EOF

# cargo-lambda also takes RUST_LOG as its own log filter (at info it logs each spawn with the full
# environment, secrets included), so the functions get RUST_LOG from an env file and cargo-lambda
# runs without it, at its default level. Single quotes keep a filter's commas and '=' intact.
functions_env="$ROOT/.kitchen/functions.env"
printf "RUST_LOG='%s'\n" "$RUST_LOG" >"$functions_env"

# In the foreground, so Ctrl-C reaches it (and its functions) directly; the EXIT trap then stops the rest.
# The functions log JSON, as in AWS; scripts/dev-log.py shows it as one short line per request, and
# passes any other line as it is. Ctrl-C reaches it too: it reads on until cargo lambda watch and
# the functions have closed the pipe, so their last lines are shown, and the pipeline's status is
# cargo lambda watch's (pipefail).
case "${KITCHEN_LOG_FORMAT:-pretty}" in
json) env -u RUST_LOG "${watch[@]}" --env-file "$functions_env" ;;
pretty) env -u RUST_LOG "${watch[@]}" --env-file "$functions_env" | python3 scripts/dev-log.py ;;
*)
    echo "dev: error: KITCHEN_LOG_FORMAT must be pretty or json, not '$KITCHEN_LOG_FORMAT'" >&2
    exit 1
    ;;
esac
