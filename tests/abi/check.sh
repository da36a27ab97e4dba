#!/usr/bin/env bash
# ABI check: compares the exported functions and public struct layouts of
# libernie.so with the reviewed dump tests/abi/libernie.abi (libabigail's
# abidw/abidiff, Debian package abigail-tools). Any difference fails:
#
#   - incompatible (a symbol removed, a signature or field type changed, a
#     field moved): bump ERNIE_ABI_VERSION (include/ernie.h and CMakeLists.txt,
#     which changes the SONAME), then record the new ABI with --update;
#   - compatible growth (a function added, a field appended at the end of a
#     struct; docs/abi.md): record it with --update, so the dump stays the
#     reviewed statement of the ABI;
#   - a version bump not yet recorded: --update.
#
#   tests/abi/check.sh              build build-abi/ (Debug: the check needs DWARF) and compare
#   tests/abi/check.sh --lib FILE   compare FILE instead (any libernie.so built with -g)
#   tests/abi/check.sh --baseline DUMP   compare against DUMP instead of the stored dump
#   tests/abi/check.sh --update     rewrite tests/abi/libernie.abi from the current library
#   tests/abi/check.sh --self-test  prove the check catches each kind of change (on small
#                                   probe libraries built from edited copies of ernie.h)
# ERNIE_ABI_BUILD_DIR overrides build-abi/.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
stored="$root/tests/abi/libernie.abi"
abidw_flags=(--exported-interfaces-only --drop-private-types --no-show-locs --type-id-style hash --no-corpus-path)

die() { echo "abi-check: $*" >&2; exit 2; }
command -v abidw >/dev/null && command -v abidiff >/dev/null || die "abidw/abidiff not found: apt-get install abigail-tools"

header_version() { sed -n 's/^#define ERNIE_ABI_VERSION \([0-9][0-9]*\).*/\1/p' "$1"; }
dump_version() { sed -n "s/.*soname='libernie\.so\.\([0-9][0-9]*\)'.*/\1/p" "$1" | head -n 1; }

# dump LIB HEADERS_DIR OUT: the ABI corpus of LIB, restricted to the types of HEADERS_DIR.
dump() {
  [[ "$(readelf -S "$1")" == *.debug_info* ]] || die "$1 has no debug info: build it with -g (Debug or RelWithDebInfo)"
  abidw "${abidw_flags[@]}" --headers-dir "$2" --out-file "$3" "$1"
}

# compare BASELINE CURRENT HEADER_VERSION: prints the verdict; 0 when identical.
compare() {
  local baseline=$1 current=$2 version=$3 report rc=0
  local recorded; recorded=$(dump_version "$baseline")
  report=$(abidiff "$baseline" "$current") || rc=$?
  if [ $((rc & 3)) -ne 0 ]; then echo "$report"; die "abidiff failed (exit $rc)"; fi
  if [ "$version" != "$recorded" ]; then
    echo "$report"
    echo "abi-check: FAIL (version bumped): ERNIE_ABI_VERSION is $version but the dump records $recorded: run tests/abi/check.sh --update"
    return 1
  fi
  if [ "$rc" -eq 0 ]; then
    echo "abi-check: OK: the ABI matches tests/abi/libernie.abi (ABI version $version)"
    return 0
  fi
  echo "$report"
  # Removed symbols (exit bit 8), moved or retyped fields, changed signatures
  # or deleted members break existing callers; added functions and fields
  # appended at the end of a struct do not.
  if [ $((rc & 8)) -ne 0 ] ||
     grep -Eq "offset changed|type name changed|type of '|data member deletion|was removed|was added|return type changed|Removed function|Removed variable|entity changed" <<<"$report"; then
    echo "abi-check: FAIL (incompatible): an exported symbol or public struct layout changed without an ABI version bump."
    echo "  Undo the change, or bump ERNIE_ABI_VERSION (include/ernie.h and CMakeLists.txt) and run tests/abi/check.sh --update."
  else
    echo "abi-check: FAIL (compatible growth): functions added or fields appended; no version bump is needed."
    echo "  Record the new ABI with tests/abi/check.sh --update (new functions also need a new version node in lib/ernie.map)."
  fi
  return 1
}

build_library() {
  local dir="${ERNIE_ABI_BUILD_DIR:-$root/build-abi}" launcher=() generator=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  command -v ninja >/dev/null && [ ! -f "$dir/Makefile" ] && generator=(-G Ninja)
  cmake -S "$root" -B "$dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Debug -DERNIE_BUILD_TESTS=OFF \
    -DERNIE_BUILD_SAMPLES=OFF -DERNIE_CUDA=OFF "${launcher[@]}" >/dev/null || return 1
  # errexit does not reach into $(...): a failed build must not leave the
  # previous library to be checked.
  cmake --build "$dir" --target ernie -j "${ERNIE_ABI_JOBS:-2}" >/dev/null || return 1
  echo "$dir/lib/libernie.so"
}

# probe DIR SED_EXPR EXTRA_C: a small libernie.so.1 from an edited copy of
# ernie.h, exporting one function that takes every public struct (so its
# layout is in the dump) plus EXTRA_C; its dump is DIR/dump.abi.
probe() {
  local dir=$1
  mkdir -p "$dir/include"
  sed "$2" "$root/include/ernie.h" >"$dir/include/ernie.h"
  {
    echo '#include "ernie.h"'
    printf 'ERNIE_API void ernie_abi_probe('
    grep -Eo '^(typedef )?struct ernie_[a-z_]+ \{' "$dir/include/ernie.h" | sed -E 's/^typedef //; s/ \{$//' |
      awk '{ printf "%s%s *p%d", (NR > 1 ? ", " : ""), $0, NR }'
    echo ') {}'
    echo "$3"
  } >"$dir/probe.c"
  cc -g -O0 -shared -fPIC -fvisibility=hidden -Wl,-soname,libernie.so.1 -I"$dir/include" "$dir/probe.c" -o "$dir/libernie.so"
  dump "$dir/libernie.so" "$dir/include" "$dir/dump.abi"
}

self_test() {
  local tmp; tmp=$(mktemp -d); trap 'rm -rf "$tmp"' RETURN
  local version; version=$(header_version "$root/include/ernie.h")
  local fn='ERNIE_API int ernie_probe_fn(int a) { return a; }'
  probe "$tmp/base" 's/^//' "$fn"
  local failures=0
  # expect NAME VERDICT SED_EXPR EXTRA_C [HEADER_VERSION]
  expect() {
    probe "$tmp/$1" "$3" "$4"
    local out; out=$(compare "$tmp/base/dump.abi" "$tmp/$1/dump.abi" "${5:-$version}" || true)
    if grep -q "^abi-check: $2" <<<"$out"; then
      echo "ok    $1: $2"
    else
      echo "FAIL  $1: expected '$2', got: $(grep '^abi-check:' <<<"$out")"
      failures=$((failures + 1))
    fi
  }
  expect unchanged "OK" 's/^//' "$fn"
  expect field-inserted "FAIL (incompatible)" 's/^  int32_t n_batch; /  int32_t inserted; int32_t n_batch; /' "$fn"
  expect field-retyped "FAIL (incompatible)" 's/^  int32_t n_ctx; /  int64_t n_ctx; /' "$fn"
  expect field-removed "FAIL (incompatible)" '/^  int32_t n_logprobs; /d' "$fn"
  expect function-removed "FAIL (incompatible)" 's/^//' ''
  expect signature-changed "FAIL (incompatible)" 's/^//' 'ERNIE_API int ernie_probe_fn(long a) { return (int)a; }'
  expect field-appended "FAIL (compatible growth)" 's/^  size_t n_logit_bias;/  size_t n_logit_bias; int32_t appended;/' "$fn"
  expect function-added "FAIL (compatible growth)" 's/^//' "$fn ERNIE_API int ernie_probe_new(void) { return 0; }"
  expect version-bumped "FAIL (version bumped)" 's/^//' "$fn" $((version + 1))
  [ "$failures" -eq 0 ] && echo "abi-check self-test: all passed" || { echo "abi-check self-test: $failures failed"; return 1; }
}

lib="" mode=check
while [ $# -gt 0 ]; do
  case "$1" in
    --lib) lib=$2; shift 2 ;;
    --baseline) stored=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2 ;;
    --update) mode=update; shift ;;
    --self-test) mode=self-test; shift ;;
    *) die "unknown argument $1 (see the comment at the top of $0)" ;;
  esac
done

if [ "$mode" = self-test ]; then self_test; exit; fi
[ -n "$lib" ] || lib=$(build_library) || die "building the library in ${ERNIE_ABI_BUILD_DIR:-build-abi}/ failed"
version=$(header_version "$root/include/ernie.h")
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libernie.so.$version" ] || die "$lib has SONAME $soname but include/ernie.h says ABI version $version"
current=$(mktemp); trap 'rm -f "$current"' EXIT
dump "$lib" "$root/include" "$current"
if [ "$mode" = update ]; then
  install -m 644 "$current" "$stored"
  echo "abi-check: recorded the ABI of $lib (ABI version $version) in tests/abi/libernie.abi: review and commit it"
  exit 0
fi
[ -f "$stored" ] || die "no stored dump: run tests/abi/check.sh --update"
compare "$stored" "$current" "$version"
