#!/usr/bin/env bash
# Fuzz campaign: builds the libFuzzer targets with clang-16 (ASan + UBSan)
# in build-fuzz/ and runs each for SECONDS, starting from its corpus in
# tests/fuzz/corpus/<target>/. New inputs go to build-fuzz/fuzz-work/<target>/
# (the repository's corpus is read, never written); a crash leaves its input
# in build-fuzz/fuzz-artifacts/ and makes the script fail. Prints one line per
# target: executions, coverage (edges) and features.
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]     (default 20 s, every target)
#
# A finding becomes a regression input: copy the artifact into the target's
# corpus folder once the bug is fixed (ctest replays every corpus file).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-20}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(packed_file safetensors hf_checkpoint tokenizer chat_render tool_call json_schema session_restore)
fi

if [ ! -f build-fuzz/CMakeCache.txt ]; then
  CC=clang-16 CXX=clang++-16 cmake -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DERNIE_FUZZ=ON \
    -DERNIE_SANITIZE=address,undefined -DERNIE_BUILD_SAMPLES=OFF -DERNIE_CUDA=OFF >/dev/null
fi
cmake --build build-fuzz -j"$(nproc)" >/dev/null

mkdir -p build-fuzz/fuzz-artifacts
status=0
for t in "${targets[@]}"; do
  work=build-fuzz/fuzz-work/$t
  mkdir -p "$work"
  log=build-fuzz/fuzz-work/$t.log
  if ASAN_OPTIONS=detect_leaks=1 build-fuzz/bin/fuzz_"$t" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=build-fuzz/fuzz-artifacts/"$t"- \
      "$work" tests/fuzz/corpus/"$t" >"$log" 2>&1; then
    result=ok
  else
    result=FAILED
    status=1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' || true)
  cov=$(grep -E '^#[0-9]+' "$log" | tail -1 | grep -o 'cov: [0-9]*' | awk '{print $2}' || true)
  ft=$(grep -E '^#[0-9]+' "$log" | tail -1 | grep -o 'ft: [0-9]*' | awk '{print $2}' || true)
  printf 'fuzz %-16s %s: %s runs in %s s, cov %s, ft %s, corpus %s files\n' "$t" "$result" "${runs:-?}" \
    "$seconds" "${cov:-?}" "${ft:-?}" "$(ls "$work" | wc -l)"
  if [ "$result" = FAILED ]; then tail -40 "$log"; fi
done
exit $status
