#!/usr/bin/env bash
# Builds the C# binding and its tests with Mono (mcs, C# 7) and runs them
# against the library in build/ (or $ERNIE_BUILD_DIR):
#
#   bindings/csharp/test.sh [TEST_NAME_FILTER...]
#
# Needs build/lib/libernie.so and build/bin/ernie (cmake --build build), and
# Debian's mono-mcs + mono-runtime (.ci: apt-get install mono-mcs mono-runtime
# libmono-system-runtime-serialization4.0-cil). The tests pack the tiny models
# they use from tests/data with the binding's own ErnieLibrary.Pack.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${ERNIE_BUILD_DIR:-$root/build}"
case "$build" in /*) ;; *) build="$root/$build" ;; esac

for f in "$build/lib/libernie.so" "$build/bin/ernie"; do
  [ -e "$f" ] || { echo "test.sh: $f is missing: build the library first (cmake --build ${build#$root/})" >&2; exit 1; }
done
command -v mcs >/dev/null && command -v mono >/dev/null || {
  echo "test.sh: Mono is missing: apt-get install mono-mcs mono-runtime libmono-system-runtime-serialization4.0-cil" >&2; exit 1; }

out="$(mktemp -d "${TMPDIR:-/tmp}/ernie-csharp.XXXXXX")"
trap 'rm -rf "$out"' EXIT
mapfile -t sources < <(find "$here/src" -name '*.cs' | sort)
mapfile -t tests < <(find "$here/tests" -name '*.cs' | sort)
mcs -langversion:7 -debug -warnaserror+ -target:library -out:"$out/Ernie.dll" "${sources[@]}"
mcs -langversion:7 -debug -warnaserror+ -target:exe -out:"$out/ErnieTests.exe" -r:"$out/Ernie.dll" \
  -r:System.Runtime.Serialization "${tests[@]}"

mkdir -p "$out/tmp"
LD_LIBRARY_PATH="$build/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
ERNIE_TEST_DATA="$root/tests/data" ERNIE_CLI="$build/bin/ernie" ERNIE_TEST_TMP="$out/tmp" \
  mono --debug "$out/ErnieTests.exe" "$@"
