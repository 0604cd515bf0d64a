#!/usr/bin/env bash
# `make package`: release zips of the seven Lambda functions, target/lambda/<function>/bootstrap.zip, built
# with `cargo lambda build --release --arm64` for the template's `provided.al2023` arm64 functions, then a
# table of their sizes. Fails if a zip is over the 4 MB budget (README.md, "Measured").
#
# Linking for Linux on another architecture needs zig, which comes from the pinned PyPI package `ziglang`
# in .venv (a dependency of cargo-lambda in tools/requirements-dev.txt). The aarch64 Rust standard library
# comes from `rustup target add aarch64-unknown-linux-gnu`; where that cannot be had (no network to the
# Rust toolchain server), this says so and builds x86_64 instead, whose zips need `Architectures: [x86_64]`
# in template.yaml.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# The deployed functions only: not the dev tools or test crates of the workspace.
FUNCTIONS=(auth dishes orders payments admin paystack-webhook notifier)
LIMIT_BYTES=$((4 * 1024 * 1024))

die() {
    echo "package: error: $*" >&2
    exit 1
}
say() {
    echo "package: $*" >&2
}

started=$SECONDS

bash scripts/bootstrap.sh
# cargo-lambda and zig come from the project's venv, not from whatever is installed globally.
export PATH="$ROOT/.venv/bin:$PATH"

# cargo-lambda links through cargo-zigbuild, which looks for zig as `python3 -m ziglang` first and as `zig`
# on PATH second (CARGO_ZIGBUILD_PYTHON_PATH and CARGO_ZIGBUILD_ZIG_PATH override the two). Point it at the
# venv's interpreter, so the pinned ziglang is the zig used even if another python3 or zig comes first on
# PATH. If it found none, cargo-lambda would offer to install zig itself; fail here instead.
export CARGO_ZIGBUILD_PYTHON_PATH="$ROOT/.venv/bin/python3"
zig_version="$("$CARGO_ZIGBUILD_PYTHON_PATH" -m ziglang version 2>/dev/null)" \
    || die "zig from the pip package 'ziglang' does not run in .venv (\`.venv/bin/python3 -m ziglang version\` failed); is it pinned in tools/requirements-dev.txt?"

# The Rust standard library for the target: present in the active toolchain, or added with rustup.
has_std() {
    [[ -d "$(rustc --print sysroot)/lib/rustlib/$1/lib" ]]
}
arch=arm64
target=aarch64-unknown-linux-gnu
if ! has_std "$target"; then
    # rust-toolchain.toml lists the target, so rustup installs it with the toolchain; a toolchain
    # installed before that (or by hand) may still lack it.
    say "adding the Rust standard library for $target (rustup target add $target; first run only, rustup shows its download)..."
    if ! command -v rustup >/dev/null 2>&1; then
        say "rustup is not on PATH"
    elif ! rustup target add "$target" >&2; then
        say "rustup target add $target failed"
    else
        say "added the Rust standard library for $target"
    fi
fi
if ! has_std "$target"; then
    echo >&2
    say "WARNING: this machine cannot get the Rust standard library for $target (arm64), most likely because"
    say "it cannot reach the Rust toolchain server. Building x86_64 zips instead."
    say "Deploy these only with the functions' architecture set to x86_64 in template.yaml"
    say "(Architectures: [x86_64] instead of [arm64]); an x86_64 binary does not start on arm64 Lambda."
    echo >&2
    arch=x86_64
    target=x86_64-unknown-linux-gnu
    has_std "$target" || die "the Rust standard library for $target is missing too; is the Rust toolchain installed?"
fi

case "$arch" in
    arm64) arch_flag=--arm64 ;;
    x86_64) arch_flag=--x86-64 ;;
esac

package_args=()
for function in "${FUNCTIONS[@]}"; do
    package_args+=(--package "$function")
    # A zip left by an earlier build must not be reported as this build's.
    rm -f "target/lambda/$function/bootstrap.zip" "target/lambda/$function/bootstrap"
done

say "cargo lambda build --release $arch_flag for ${FUNCTIONS[*]} (zig $zig_version; target $target)"
build_started=$SECONDS
# --compiler cargo-zigbuild: link with zig whatever the host, so the binaries' glibc requirement is zig's
# (provided.al2023 has glibc 2.34), not that of this machine's libc.
cargo lambda build --release "$arch_flag" --compiler cargo-zigbuild --output-format zip "${package_args[@]}"
build_seconds=$((SECONDS - build_started))

# Size table; also reads each zipped binary's ELF header, so a zip of the wrong architecture is caught here.
python3 - "$arch" "$LIMIT_BYTES" "${FUNCTIONS[@]}" <<'PY'
import os
import struct
import sys
import zipfile

arch, limit, functions = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
machines = {0xB7: "arm64", 0x3E: "x86_64"}
problems = []
rows = []
for name in functions:
    path = f"target/lambda/{name}/bootstrap.zip"
    try:
        with zipfile.ZipFile(path) as z:
            info = z.getinfo("bootstrap")
            with z.open(info) as f:
                header = f.read(20)
    except (OSError, KeyError, zipfile.BadZipFile) as e:
        problems.append(f"{path}: not a zip holding a 'bootstrap' binary ({e})")
        continue
    size = os.path.getsize(path)
    machine = machines.get(struct.unpack_from("<H", header, 18)[0], "unknown") if header[:4] == b"\x7fELF" else "not ELF"
    verdict = "ok"
    if size > limit:
        verdict = "OVER BUDGET"
        problems.append(f"{path} is {size} bytes, over the {limit}-byte (4 MiB) budget")
    if machine != arch:
        verdict = "WRONG ARCH"
        problems.append(f"{path} holds a {machine} binary, expected {arch}")
    rows.append((name, size, info.file_size, machine, verdict))

print(f"{'function':<18} {'zip bytes':>10} {'zip MiB':>8} {'binary MiB':>10}  {'arch':<7} budget 4 MiB")
for name, size, unzipped, machine, verdict in rows:
    print(f"{name:<18} {size:>10} {size / 1048576:>8.2f} {unzipped / 1048576:>10.2f}  {machine:<7} {verdict}")
for p in problems:
    print(f"package: error: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY

say "built $arch zips in target/lambda/<function>/bootstrap.zip (cargo lambda build: ${build_seconds}s, total: $((SECONDS - started))s)"
if [[ "$arch" != arm64 ]]; then
    say "WARNING: these are x86_64 zips; template.yaml's Architectures must be x86_64 to deploy them."
fi
