#!/usr/bin/env bash
# `make fuzz` (and, with --quick, a step of `make test`): schemathesis against the whole local API.
#
#   scripts/fuzz.sh           the long run: many examples per operation, then the stateful phase
#                             (sequences of calls linked by the ids the API answers)
#   scripts/fuzz.sh --quick   a bounded, reproducible run (fixed seed, few examples per operation)
#   extra arguments after the mode go to `schemathesis run` (e.g. --include-tag orders, --max-examples 500)
#
# It starts the local stack exactly as `make dev` does (scripts/dev.sh, on free ports, in its own
# process group, log in .kitchen/logs/fuzz/), waits for GET /health, signs in a new customer and the
# seeded admin through the API, runs schemathesis with openapi/openapi.json and tests/fuzz/schemathesis.toml,
# and stops the stack however the run ends. Every response must pass the checks named in that file.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

mode=full
if [[ "${1:-}" == "--quick" ]]; then
    mode=quick
    shift
fi

# The fuzzer always starts from an empty in-memory table, whatever a developer keeps for `make dev`.
unset KITCHEN_DATA_DIR
# Its own log folder, so the stand-ins' logs of a `make dev` running beside it are left alone.
export KITCHEN_LOG_DIR="$ROOT/.kitchen/logs/fuzz"
# The functions' log lines as they print them: the stack's log is searched for 5xx answers below.
export KITCHEN_LOG_FORMAT=json
REPORT_DIR="$ROOT/.kitchen/fuzz"
# Bounded waits, in seconds: the stack's start includes a debug build of the workspace (fast when
# `make test` has just built it; several minutes from a clean target).
STACK_TIMEOUT="${FUZZ_STACK_TIMEOUT:-900}"

say() {
    echo "fuzz: $*" >&2
}

bash scripts/bootstrap.sh
export PATH="$ROOT/.venv/bin:$PATH"
# shellcheck source=scripts/standins.sh
source scripts/standins.sh

began="$(date +%s)"
read -r api_port dynamodb_port moto_port paystack_port gate_port < <(free_port 5)
[[ -n "${paystack_port:-}" ]] || { say "could not find free ports"; exit 1; }
API="http://127.0.0.1:$api_port"
mkdir -p "$KITCHEN_LOG_DIR" "$REPORT_DIR"
stack_log="$KITCHEN_LOG_DIR/stack.log"
stack_pid=

stop_stack() {
    [[ -n "$stack_pid" ]] || return 0
    local waited
    # dev.sh stops its stand-ins in its EXIT trap; TERM reaches it and cargo lambda watch (its
    # foreground child) through the group, as Ctrl-C would. It may take a while: each stand-in gets 10s.
    kill -TERM -- "-$stack_pid" 2>/dev/null || true
    for ((waited = 0; waited < 900; waited++)); do
        kill -0 -- "-$stack_pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 -- "-$stack_pid" 2>/dev/null; then
        say "the stack (pid $stack_pid) did not stop within 90s; killing it"
        kill -KILL -- "-$stack_pid" 2>/dev/null || true
    fi
    wait "$stack_pid" 2>/dev/null || true
    stack_pid=
    local port
    for port in "$api_port" "$dynamodb_port" "$moto_port" "$paystack_port"; do
        port_is_free "$port" || say "warning: port $port is still in use after the stack stopped"
    done
}

on_exit() {
    local status=$?
    trap '' INT TERM HUP PIPE
    set +e
    stop_stack
    exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- the stack ----------------------------------------------------------------------------------
# The admin dev.sh seeds; the fuzzer signs in with the same values.
export ADMIN_EMAIL="${ADMIN_EMAIL:-admin@kitchen.local}"
export ADMIN_PASSWORD="${ADMIN_PASSWORD:-kitchen-admin-123}"
# No rebuild and restart of the functions when a source file changes during the run (someone editing
# the tree while `make test` runs): requests caught by a restart would time out.
export KITCHEN_NO_RELOAD=1
say "starting the local stack (scripts/dev.sh) with the API on $API; log $stack_log"
# setsid execs in place (this script is no group leader), so $! is dev.sh and its process group id.
API_PORT="$api_port" DYNAMODB_PORT="$dynamodb_port" MOTO_PORT="$moto_port" PAYSTACK_PORT="$paystack_port" \
    GATE_PORT="$gate_port" setsid bash scripts/dev.sh >"$stack_log" 2>&1 </dev/null &
stack_pid=$!

start="$(date +%s)"
until curl -fsS --max-time 5 -o /dev/null "$API/health" 2>/dev/null; do
    if ! kill -0 "$stack_pid" 2>/dev/null; then
        say "error: the stack exited while starting; last lines of $stack_log:"
        tail -n 40 "$stack_log" | sed 's/^/    /' >&2
        exit 1
    fi
    if (($(date +%s) - start >= STACK_TIMEOUT)); then
        say "error: GET /health did not answer 200 within ${STACK_TIMEOUT}s; last lines of $stack_log:"
        tail -n 40 "$stack_log" | sed 's/^/    /' >&2
        exit 1
    fi
    sleep 1
done
say "the API answered GET /health after $(($(date +%s) - start))s"

# --- tokens ---------------------------------------------------------------------------------------
# POSTs JSON and prints the response body; fails loudly with the status and body unless it is 2xx.
post_json() {
    local path="$1" body="$2" out status
    out="$(curl -sS --max-time 60 -w '\n%{http_code}' -X POST "$API$path" \
        -H 'content-type: application/json' -d "$body")"
    status="${out##*$'\n'}"
    out="${out%$'\n'*}"
    if [[ "$status" != 2?? ]]; then
        say "error: POST $path answered $status: $out"
        return 1
    fi
    printf '%s\n' "$out"
}
# Prints the field FIELD (a dotted path) of the JSON object on standard input.
json_field() {
    python3 -c 'import json, sys
value = json.load(sys.stdin)
for key in sys.argv[1].split("."):
    value = value[key]
print(value)' "$1"
}

customer_email="fuzz-$(date +%s)-$$@example.com"
customer_password="fuzz-customer-password-$$"
credentials="{\"email\":\"$customer_email\",\"password\":\"$customer_password\"}"
KITCHEN_FUZZ_CUSTOMER_ID="$(post_json /auth/register "$credentials" | json_field user.id)"
# A customer orders and pays only with a verified email: open the link of the verification email
# that moto's SES holds, as the customer would (the routes are fuzzed with a customer who can order).
verify_token="$(curl -fsS --max-time 10 "http://127.0.0.1:$moto_port/moto-api/data.json" | python3 -c '
import json, sys, urllib.parse
to = sys.argv[1]
for message in reversed(json.load(sys.stdin).get("ses", {}).get("Message", [])):
    if to in [address for addresses in message["destinations"].values() for address in addresses]:
        for line in message["body"].splitlines():
            if "/auth/email/verify?token=" in line:
                print(urllib.parse.parse_qs(urllib.parse.urlsplit(line).query)["token"][0])
                sys.exit()
sys.exit("fuzz: no verification email to " + to)' "$customer_email")"
post_json /auth/email/verify "{\"token\":\"$verify_token\"}" >/dev/null
KITCHEN_FUZZ_CUSTOMER_TOKEN="$(post_json /auth/login "$credentials" | json_field access_token)"
# POST /auth/logout ends the session it is sent with, so it gets a session of its own.
KITCHEN_FUZZ_LOGOUT_TOKEN="$(post_json /auth/login "$credentials" | json_field access_token)"
KITCHEN_FUZZ_ADMIN_TOKEN="$(post_json /auth/login "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" \
    | json_field access_token)"
export KITCHEN_FUZZ_CUSTOMER_ID KITCHEN_FUZZ_CUSTOMER_TOKEN KITCHEN_FUZZ_LOGOUT_TOKEN KITCHEN_FUZZ_ADMIN_TOKEN
say "signed in customer $customer_email ($KITCHEN_FUZZ_CUSTOMER_ID) and admin $ADMIN_EMAIL"

# Each function is a process that cargo lambda watch starts (compiling it first, if need be) on its
# first request; start them all now, so that no fuzzed request pays for that. Each is asked until it
# answers anything at all, within the same bound as the stack's start.
warm_up() {
    local method="$1" path="$2" code body=()
    [[ "$method" == GET ]] || body=(-H 'content-type: application/json' -d '{}')
    start="$(date +%s)"
    while true; do
        code="$(curl -s --max-time 30 -o /dev/null -w '%{http_code}' -X "$method" "${body[@]}" \
            -H "authorization: Bearer $KITCHEN_FUZZ_ADMIN_TOKEN" "$API$path" || true)"
        [[ "$code" == 000 ]] || return 0
        if (($(date +%s) - start >= STACK_TIMEOUT)); then
            say "error: $method $path did not answer within ${STACK_TIMEOUT}s; last lines of $stack_log:"
            tail -n 40 "$stack_log" | sed 's/^/    /' >&2
            return 1
        fi
    done
}
warm_up GET /cart
warm_up GET /payments
warm_up GET /admin/dishes
warm_up POST /webhooks/paystack
say "every function answers ($(($(date +%s) - began))s since the start)"

# --- schemathesis -----------------------------------------------------------------------------------
common=(
    --url "$API"
    # One request at a time: cargo lambda watch gives each function instance one request at a time
    # and starts another instance (a `cargo run`) for each concurrent one, which is slow and, while
    # another cargo holds the build lock, slower than the request timeout.
    --workers 1
    --report junit --report-junit-path "$REPORT_DIR/$mode-junit.xml"
    --no-color
)
if [[ "$mode" == quick ]]; then
    # Reproducible: a fixed seed, derandomized generation, no example database or cache carried over
    # from earlier runs; a few examples per operation through the examples, coverage and fuzzing phases.
    args=(
        --phases "examples,coverage,fuzzing"
        --max-examples "${FUZZ_QUICK_EXAMPLES:-10}"
        --seed 20261124 --generation-deterministic
    )
    # Schemathesis replays what its cache remembers from earlier runs; the quick run starts without.
    export KITCHEN_FUZZ_CACHE_DIR="$REPORT_DIR/quick-cache"
    rm -rf "$KITCHEN_FUZZ_CACHE_DIR"
else
    args=(
        --max-examples "${FUZZ_EXAMPLES:-200}"
        --generation-database "$REPORT_DIR/examples"
        --report har --report-har-path "$REPORT_DIR/full-requests.har"
    )
    export KITCHEN_FUZZ_CACHE_DIR="$REPORT_DIR/cache"
fi
say "schemathesis run ($mode), reports in $REPORT_DIR"
start="$(date +%s)"
status=0
export SCHEMATHESIS_HOOKS="$ROOT/tests/fuzz/hooks.py"
# From inside the report folder, so whatever schemathesis and Hypothesis keep on disk lands there.
(cd "$REPORT_DIR" && schemathesis --config-file "$ROOT/tests/fuzz/schemathesis.toml" run "$ROOT/openapi/openapi.json" \
    "${common[@]}" "${args[@]}" "$@") || status=$?
say "schemathesis finished in $(($(date +%s) - start))s with status $status; reports in $REPORT_DIR," \
    "the stack's log in $stack_log"

# Whatever the client saw, no function may have answered a 5xx or panicked: each logs one line per
# request with its status. (The stand-in for API Gateway sometimes loses a response and answers 500
# itself, which tests/fuzz/hooks.py forgives; this is what makes that safe.)
server_errors="$(grep -E '"message":"request".*"status":5[0-9]{2}[,}]|panicked at' "$stack_log" || true)"
if [[ -n "$server_errors" ]]; then
    say "error: the stack's log shows server errors or panics:"
    head -n 20 <<<"$server_errors" | cut -c1-400 | sed 's/^/    /' >&2
    status=1
fi
say "$mode run done in $(($(date +%s) - began))s (stack start, sign-ins and warm-up included; its stop follows)"
exit "$status"
