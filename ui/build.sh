#!/usr/bin/env bash
# Builds the UI into ui/dist: cargo (wasm32-unknown-unknown, release) + wasm-bindgen --target web +
# the static files. Offline: needs only the rustup target and wasm-bindgen-cli (scripts/setup desktop).
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  echo "ui/build.sh: the Rust target wasm32-unknown-unknown is not installed, so the UI cannot be built." >&2
  echo "             Install it with: rustup target add wasm32-unknown-unknown   (or run scripts/setup desktop)" >&2
  exit 1
fi
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' "$root/Cargo.lock")
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  echo "ui/build.sh: wasm-bindgen-cli $want is needed (Cargo.lock), found '${have:-none}'." >&2
  echo "             Install it with: cargo install wasm-bindgen-cli --version $want   (or run scripts/setup desktop)" >&2
  exit 1
fi
# Small and fast: size-optimised, LTO, one codegen unit (only for this wasm build).
export CARGO_PROFILE_RELEASE_OPT_LEVEL=z CARGO_PROFILE_RELEASE_LTO=true CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 CARGO_PROFILE_RELEASE_PANIC=abort
cargo build --locked --quiet -p dawarich-doctor-ui --lib --target wasm32-unknown-unknown --release
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
wasm-bindgen --target web --no-typescript --out-dir "$out" "$target_dir/wasm32-unknown-unknown/release/dawarich_doctor_ui.wasm"
cp static/index.html static/boot.js static/style.css "$out/"
# Replace dist only when something changed, so the shell is not rebuilt for nothing.
mkdir -p dist
if ! diff -rq "$out" dist >/dev/null 2>&1; then
  rm -rf dist/*
  cp "$out"/* dist/
  echo "ui/build.sh: built ui/dist ($(du -sh dist | cut -f1))"
else
  echo "ui/build.sh: ui/dist is up to date"
fi
