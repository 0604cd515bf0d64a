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
GATE_PORT="${GATE_PORT:-4599}"

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
require_free_port "$GATE_PORT" "the IAM gate (GATE_PORT)"

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

# What the local stack's own tools use (kitchen-local setup, sns-relay, the gate): the stand-ins'
# endpoints and the operator's throwaway credentials. A developer's own AWS credentials or profile
# must not leak in.
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$DYNAMODB_PORT"
export AWS_ENDPOINT_URL_SNS="http://127.0.0.1:$MOTO_PORT"
export AWS_ENDPOINT_URL_SQS="http://127.0.0.1:$MOTO_PORT"
export AWS_ENDPOINT_URL_SSM="http://127.0.0.1:$MOTO_PORT"
export AWS_ENDPOINT_URL_SESV2="http://127.0.0.1:$MOTO_PORT"
export AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=local
export AWS_SECRET_ACCESS_KEY=local
export AWS_EC2_METADATA_DISABLED=true
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ENDPOINT_URL
export TABLE_NAME="${TABLE_NAME:-kitchen}"
export TOPIC_ARN="arn:aws:sns:us-east-1:123456789012:kitchen-events"
# The stack's secrets; kitchen-local setup stores them in SSM (moto), where the functions read them.
# The token and cursor keys are development keys, for local use only (tools/dev-keys/README.md).
TOKEN_SIGNING_KEY="${TOKEN_SIGNING_KEY:-$(cat tools/dev-keys/token-signing-dev.pem)}"
TOKEN_PUBLIC_KEYS="${TOKEN_PUBLIC_KEYS:-$(cat tools/dev-keys/token-public-dev.pem)}"
CURSOR_KEY="${CURSOR_KEY:-$(cat tools/dev-keys/cursor-dev.key)}"
export TOKEN_SIGNING_KEY TOKEN_PUBLIC_KEYS CURSOR_KEY
export PAYSTACK_SECRET_KEY="${PAYSTACK_SECRET_KEY:-sk_test_local_secret}"
export ADMIN_EMAIL="${ADMIN_EMAIL:-admin@kitchen.local}"
export ADMIN_PASSWORD="${ADMIN_PASSWORD:-kitchen-admin-123}"
export RUST_LOG="${RUST_LOG:-info}"

# The functions themselves get exactly what template.yaml gives them, as in AWS: `kitchen-local run`
# (cargo's runner below) resolves each function's Environment with these parameter values and starts
# it with that alone, plus the gate's endpoint, the region, the function's own local credentials and
# the Lambda runtime's variables. Every AWS call goes through the gate (kitchen-local gate), which
# allows it only if the function's policy in template.yaml does. A parameter not set here takes the
# template's default.
export KITCHEN_GATE_PORT="$GATE_PORT"
export KITCHEN_PARAM_PaystackBaseUrl="http://127.0.0.1:$PAYSTACK_PORT"
export KITCHEN_PARAM_PaystackCallbackUrl="http://127.0.0.1:$API_PORT/docs"
# The links in verification and reset emails (printed below as they are sent) open this API.
export KITCHEN_PARAM_PublicApiUrl="http://127.0.0.1:$API_PORT"
# The kitchen's own phone gets an SMS for every paid order; locally it only lands in moto.
export KITCHEN_PARAM_KitchenPhone="${KITCHEN_PHONE:-+2348000000000}"
export KITCHEN_PARAM_LogLevel="$RUST_LOG"
# Google sign-in with the development key (tools/dev-keys/google-dev.pem; tools/devkit/src/google_dev.rs):
# the auth function accepts ID tokens issued to client id kitchen-local, checked against the JWKS the
# IAM gate serves, as it checks Google's. `make google-token EMAIL=...` mints one. These are stack
# parameters of this deployment only: template.yaml's defaults trust no development key.
export KITCHEN_PARAM_GoogleClientIds="kitchen-local"
export KITCHEN_PARAM_GoogleJwksUrl="http://127.0.0.1:$GATE_PORT/_dev/google/oauth2/v3/certs"

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
    echo "GATE_PORT=$GATE_PORT"
    echo "DYNAMODB_PID=$dynamodb_pid"
    echo "PAYSTACK_PID=$paystack_pid"
    printf "PAYSTACK_SIM=%q\n" "$paystack_sim"
    printf "KITCHEN_DATA_DIR=%q\n" "${KITCHEN_DATA_DIR:-}"
    printf "KITCHEN_LOG_DIR=%q\n" "$KITCHEN_LOG_DIR"
} >"$stack_file"

# Table (key schema from template.yaml) and topic if absent, the secrets in SSM, demo menu, admin
# user; prints a summary. It also reads every function's environment and policy from template.yaml,
# so a template the local stack cannot run stops here, naming the resource and the statement.
echo "dev: kitchen-local setup" >&2
"$bin_dir/kitchen-local" setup

# The IAM gate between the functions and the stand-ins.
standins_start_http iam-gate "http://127.0.0.1:$GATE_PORT/_gate/health" "$bin_dir/kitchen-local" gate
# Its refusals ("iam: DENIED ...") are printed here, where the developer looks.
setsid tail -n 0 -F "$KITCHEN_LOG_DIR/iam-gate.log" </dev/null >&2 &
standins_track "$!" iam-gate-log

# cargo runs each function through `kitchen-local run` (cargo lambda watch starts them with
# `cargo run`), which gives it its template environment and nothing else.
host_triple="$(rustc -vV | sed -n 's/^host: //p')"
runner_var="CARGO_TARGET_$(echo "$host_triple" | tr 'a-z-' 'A-Z_')_RUNNER"
export "$runner_var=$bin_dir/kitchen-local run"

# Scheduled events of template.yaml (the unpaid-order sweep) fire on their schedules, delivered as
# EventBridge delivers them, through cargo lambda watch's Invoke API.
API_PORT="$API_PORT" setsid "$bin_dir/kitchen-local" schedules </dev/null &
standins_track "$!" schedules

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
   moto (SNS, SSM)  http://127.0.0.1:$MOTO_PORT   topic $TOPIC_ARN
                    sent SMS are printed here as [sms] lines, and kept in
                    http://127.0.0.1:$MOTO_PORT/moto-api/data.json  (under sns.SMS)
   Paystack (sim)   $KITCHEN_PARAM_PaystackBaseUrl   secret key $PAYSTACK_SECRET_KEY
                    webhooks to http://127.0.0.1:$API_PORT/webhooks/paystack; transactions: $KITCHEN_PARAM_PaystackBaseUrl/_sim/transactions
   IAM gate         http://127.0.0.1:$GATE_PORT   every AWS call of a function, checked against template.yaml
                    (refusals are printed here as "iam: DENIED" lines)
   schedules        template.yaml's, as EventBridge fires them (the unpaid-order sweep every 15 minutes);
                    one at once: make invoke EVENT=events/orders/sweep-unpaid-orders.json
   admin login      $ADMIN_EMAIL / $ADMIN_PASSWORD
   Google sign-in   client id $KITCHEN_PARAM_GoogleClientIds, development key (tools/dev-keys/google-dev.pem):
                    TOKEN=\$(make -s google-token EMAIL=ada@example.com); then POST /auth/google {"id_token": "\$TOKEN"}
   token keys       development keys of tools/dev-keys (local use only; never trusted by a deployment),
                    public keys at http://127.0.0.1:$API_PORT/.well-known/jwks.json
   logs             $KITCHEN_LOG_DIR/
 Ctrl-C stops everything.
==================================================================================================

EOF

# cargo-lambda also takes RUST_LOG as its own log filter (at info it logs each spawn with the full
# environment), so it runs without it; the functions get theirs from template.yaml (LogLevel).
# In the foreground, so Ctrl-C reaches it (and its functions) directly; the EXIT trap then stops the rest.
# The functions log JSON, as in AWS; scripts/dev-log.py shows it as one short line per request, and
# passes any other line as it is. Ctrl-C reaches it too: it reads on until cargo lambda watch and
# the functions have closed the pipe, so their last lines are shown, and the pipeline's status is
# cargo lambda watch's (pipefail).
case "${KITCHEN_LOG_FORMAT:-pretty}" in
json) env -u RUST_LOG "${watch[@]}" ;;
pretty) env -u RUST_LOG "${watch[@]}" | python3 scripts/dev-log.py ;;
*)
    echo "dev: error: KITCHEN_LOG_FORMAT must be pretty or json, not '$KITCHEN_LOG_FORMAT'" >&2
    exit 1
    ;;
esac
