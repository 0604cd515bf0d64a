#!/usr/bin/env bash
# `make load`: simulated customers against the whole local stack, built in release mode, with faults
# injected while they run; then the table's invariants (tools/load, binary kitchen-load).
#
#   bash scripts/load.sh                       build, start the stack on free ports, run, stop it
#   bash scripts/load.sh fault <dynamodb|paystack> <stop|start>
#   bash scripts/load.sh fault dynamodb <freeze|thaw>
#                                              (kitchen-load calls these) stop a stand-in of the running
#                                              load stack, or start it again on the same port and data;
#                                              freeze DynamoDB Local (SIGSTOP: connections open, no
#                                              answers) or let it go on
#
# Settings: LOAD_CUSTOMERS (32), LOAD_DURATION (60s, the steady phase), LOAD_FAULTS (1; 0 skips the
# fault phases), LOAD_ARGS (more kitchen-load flags, see `kitchen-load --help`), KITCHEN_CONCURRENCY
# (instances per function; default LOAD_CUSTOMERS + 4). The stack's output goes to .kitchen/logs/load/, the report to
# target/load/report.json. Everything started here is stopped however the run ends.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
LOAD_DIR="$TARGET_DIR/load"
STACK_FILE="$ROOT/.kitchen/load/stack.env"
export KITCHEN_LOG_DIR="$ROOT/.kitchen/logs/load"
# The functions' log lines as they print them, every field kept for reading the run afterwards.
export KITCHEN_LOG_FORMAT=json

say() {
    echo "load: $*" >&2
}
die() {
    say "error: $*"
    exit 1
}

# --- the fault hook ---------------------------------------------------------------------------

# Stops the process group of PID (TERM, then KILL after 10 s).
stop_group() {
    local pid="$1" name="$2" waited
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || {
        say "$name (pid $pid) was not running"
        return 0
    }
    for ((waited = 0; waited < 100; waited++)); do
        kill -0 -- "-$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 -- "-$pid" 2>/dev/null; then
        kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    say "stopped $name (pid $pid)"
}

# Rewrites NAME=VALUE in the stack file (scripts/dev.sh stops whatever pids it lists when it exits).
set_stack_value() {
    local name="$1" value="$2" temp
    temp="$(mktemp "$STACK_FILE.XXXXXX")"
    grep -v "^$name=" "$STACK_FILE" >"$temp" || true
    echo "$name=$value" >>"$temp"
    mv "$temp" "$STACK_FILE"
}

fault() {
    local target="${1:-}" action="${2:-}"
    [[ -f "$STACK_FILE" ]] || die "no load stack is running ($STACK_FILE is missing)"
    local DYNAMODB_PORT="" DYNAMODB_PID="" PAYSTACK_PORT="" PAYSTACK_PID="" PAYSTACK_SIM="" API_PORT="" \
        KITCHEN_DATA_DIR=""
    # shellcheck source=/dev/null
    source "$STACK_FILE"
    # shellcheck source=scripts/standins.sh
    source "$ROOT/scripts/standins.sh"
    case "$target/$action" in
        dynamodb/stop) stop_group "$DYNAMODB_PID" "DynamoDB Local" ;;
        dynamodb/start)
            [[ -n "$KITCHEN_DATA_DIR" ]] || die "the stack keeps its data in memory; a restart would lose it"
            # Keep the first instance's log beside the new one.
            mv -f "$KITCHEN_LOG_DIR/dynamodb-local.log" "$KITCHEN_LOG_DIR/dynamodb-local.before-restart.log" 2>/dev/null || true
            KITCHEN_DATA_DIR="$KITCHEN_DATA_DIR" standins_start_dynamodb "$DYNAMODB_PORT"
            set_stack_value DYNAMODB_PID "${KITCHEN_STANDIN_PIDS[-1]}"
            ;;
        dynamodb/freeze) kill -STOP -- "-$DYNAMODB_PID" && say "froze DynamoDB Local (pid $DYNAMODB_PID)" ;;
        dynamodb/thaw) kill -CONT -- "-$DYNAMODB_PID" && say "thawed DynamoDB Local (pid $DYNAMODB_PID)" ;;
        paystack/stop) stop_group "$PAYSTACK_PID" "the Paystack simulator" ;;
        paystack/start)
            mv -f "$KITCHEN_LOG_DIR/paystack-sim.log" "$KITCHEN_LOG_DIR/paystack-sim.before-restart.log" 2>/dev/null || true
            standins_start_http paystack-sim "http://127.0.0.1:$PAYSTACK_PORT/health" \
                "$PAYSTACK_SIM" --port "$PAYSTACK_PORT" --webhook-url "http://127.0.0.1:$API_PORT/webhooks/paystack"
            set_stack_value PAYSTACK_PID "${KITCHEN_STANDIN_PIDS[-1]}"
            ;;
        *) die "usage: scripts/load.sh fault <dynamodb|paystack> <stop|start>, or fault dynamodb <freeze|thaw>" ;;
    esac
}

if [[ "${1:-}" == fault ]]; then
    shift
    fault "$@"
    exit 0
fi

# --- the run ------------------------------------------------------------------------------------

bash scripts/bootstrap.sh
# shellcheck source=scripts/standins.sh
source scripts/standins.sh

read -r API_PORT DYNAMODB_PORT MOTO_PORT PAYSTACK_PORT GATE_PORT < <(free_port 5)
export API_PORT DYNAMODB_PORT MOTO_PORT PAYSTACK_PORT GATE_PORT
export TABLE_NAME="${TABLE_NAME:-kitchen}"
export PAYSTACK_SECRET_KEY="${PAYSTACK_SECRET_KEY:-sk_test_local_secret}"
export PAYSTACK_TIMEOUT_MS="${PAYSTACK_TIMEOUT_MS:-5000}"
# The functions' Paystack timeout is the stack's parameter; kitchen-load judges by the same value.
export KITCHEN_PARAM_PaystackTimeoutMs="$PAYSTACK_TIMEOUT_MS"
export ADMIN_EMAIL="${ADMIN_EMAIL:-admin@kitchen.local}"
export ADMIN_PASSWORD="${ADMIN_PASSWORD:-kitchen-admin-123}"
# Release functions, not rebuilt mid-run when someone edits a file, the table on disk so that
# DynamoDB Local can be stopped and started again with its data.
export KITCHEN_RELEASE=1 KITCHEN_NO_RELOAD=1 KITCHEN_SKIP_BUILD=1 KITCHEN_STACK_FILE="$STACK_FILE"
# Lambda gives every concurrent request an instance of its own; so does cargo lambda watch up to
# this many per function. Fewer would queue requests inside the emulator and time that queue.
export KITCHEN_CONCURRENCY="${KITCHEN_CONCURRENCY:-$((${LOAD_CUSTOMERS:-32} + 4))}"
export KITCHEN_DATA_DIR="$LOAD_DIR/data"
rm -rf "$KITCHEN_DATA_DIR" "$STACK_FILE"
mkdir -p "$KITCHEN_DATA_DIR" "$KITCHEN_LOG_DIR" "$(dirname "$STACK_FILE")"

# Release builds use fat LTO: minutes from clean, seconds when nothing changed.
say "cargo build --workspace --release"
cargo build --workspace --release

stack_log="$KITCHEN_LOG_DIR/stack.log"
say "starting the stack (API on 127.0.0.1:$API_PORT; output in $stack_log)"
# Its own process group and session, so it can be stopped as a whole, and a Ctrl-C here reaches
# only this script, whose trap stops it.
setsid bash scripts/dev.sh >"$stack_log" 2>&1 </dev/null &
stack_pid=$!

# Waits until PID has exited, for up to N tenths of a second.
wait_for_exit() {
    local pid="$1" limit="$2" waited
    for ((waited = 0; waited < limit; waited++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
}

stop_stack() {
    local status=$?
    trap '' INT TERM HUP PIPE
    set +e
    # A run cut short may have left DynamoDB Local frozen; a frozen process cannot act on TERM.
    if [[ -f "$STACK_FILE" ]]; then
        local frozen
        frozen="$(sed -n 's/^DYNAMODB_PID=//p' "$STACK_FILE" | tail -n 1)"
        [[ -n "$frozen" ]] && kill -CONT -- "-$frozen" 2>/dev/null
    fi
    if kill -0 "$stack_pid" 2>/dev/null; then
        say "stopping the stack"
        kill -TERM -- "-$stack_pid" 2>/dev/null
        # cargo lambda watch ends its instances one at a time, seconds each; with dozens of them
        # the rest of its group (never dev.sh itself, whose exit trap stops the stand-ins) is killed.
        wait_for_exit "$stack_pid" 150
        if kill -0 "$stack_pid" 2>/dev/null; then
            local pid
            for pid in $(pgrep -g "$stack_pid"); do
                [[ "$pid" == "$stack_pid" ]] || kill -KILL "$pid" 2>/dev/null
            done
            wait_for_exit "$stack_pid" 600
        fi
        if kill -0 -- "-$stack_pid" 2>/dev/null; then
            say "the stack did not stop; killing it"
            kill -KILL -- "-$stack_pid" 2>/dev/null
        fi
        wait "$stack_pid" 2>/dev/null
    fi
    # Stand-ins restarted by the fault hook, should the stack have died before stopping them.
    if [[ -f "$STACK_FILE" ]]; then
        local DYNAMODB_PID="" PAYSTACK_PID=""
        # shellcheck source=/dev/null
        source "$STACK_FILE"
        for pid in $DYNAMODB_PID $PAYSTACK_PID; do
            kill -0 -- "-$pid" 2>/dev/null && stop_group "$pid" "stand-in"
        done
        rm -f "$STACK_FILE"
    fi
    exit "$status"
}
trap stop_stack EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Bounded wait for the API. The first request to /health also starts the dishes function (through
# `cargo run`, which rebuilds it first if a source changed since the build above). One request at a
# time, each allowed the time that is left: every request still waiting when another arrives would
# make cargo lambda watch start another instance.
deadline=$((SECONDS + ${LOAD_STARTUP_TIMEOUT:-900}))
until curl -fsS --max-time "$((deadline - SECONDS > 1 ? deadline - SECONDS : 1))" -o /dev/null \
    "http://127.0.0.1:$API_PORT/health" 2>/dev/null; do
    if ! kill -0 "$stack_pid" 2>/dev/null; then
        say "the stack exited while starting; last lines of $stack_log:"
        tail -n 40 "$stack_log" | sed 's/^/    /' >&2
        exit 1
    fi
    if ((SECONDS >= deadline)); then
        say "the API did not answer /health within ${LOAD_STARTUP_TIMEOUT:-900} s; last lines of $stack_log:"
        tail -n 40 "$stack_log" | sed 's/^/    /' >&2
        exit 1
    fi
    sleep 1
done
say "the stack is up"

export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$DYNAMODB_PORT"
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_EC2_METADATA_DISABLED=true
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE

fault_flags=()
if [[ "${LOAD_FAULTS:-1}" != 0 ]]; then
    fault_flags=(--faults --fault-hook "$ROOT/scripts/load.sh")
fi
# shellcheck disable=SC2086 # LOAD_ARGS is a list of flags
"$TARGET_DIR/release/kitchen-load" \
    --api "http://127.0.0.1:$API_PORT" \
    --paystack "http://127.0.0.1:$PAYSTACK_PORT" \
    --mail "http://127.0.0.1:$MOTO_PORT" \
    --customers "${LOAD_CUSTOMERS:-32}" \
    --duration "${LOAD_DURATION:-60s}" \
    --template "$ROOT/template.yaml" \
    --stack-pid "$stack_pid" \
    --report "$LOAD_DIR/report.json" \
    "${fault_flags[@]}" ${LOAD_ARGS:-}
