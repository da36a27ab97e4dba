#!/usr/bin/env bash
# The GPU check, one script for the GPU machine (docs/backends.md, "Testing on
# a GPU"): builds the CLI, the CUDA plugin and the GPU tests against the
# libraries tests/gpu/prepare-deps.sh collected in .gpudeps/, then
#   1. ernie backends (the plugin must be available),
#   2. the GPU tests: every kernel against its CPU reference, the golden
#      logits on the GPU, save/restore, GPU vs CPU on quantized packs,
#   3. the device's read bandwidth and, on a synthetic 21b-a3b q4 model,
#      ernie bench on the CUDA backend: prefill of 2048 tokens and decode,
#      with the decode roofline fraction against that bandwidth.
# Logs and results go to $OUT (or ./gpu-out). Budget: well under 8 minutes
# on an H100/H200 with 16 cores.
#
#   here:        tests/gpu/prepare-deps.sh
#   device tool: run(command="bash tests/gpu/run.sh", carry=[".gpudeps"], timeout_s=540)
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
out="${OUT:-$root/gpu-out}"
mkdir -p "$out"
deps="$root/.gpudeps/root"
[ -d "$deps" ] || { echo "run tests/gpu/prepare-deps.sh first (no .gpudeps/)"; exit 2; }
lib="$deps/usr/lib/x86_64-linux-gnu"
# cuBLAS is dlopened by the plugin: the toolkit's library directory too.
cuda_lib="$(dirname "$(readlink -f "$(command -v nvcc)")")/../lib64"
export LD_LIBRARY_PATH="$lib:$cuda_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PKG_CONFIG="$deps/usr/bin/pkgconf"
export PKG_CONFIG_PATH="$lib/pkgconfig:$deps/usr/share/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$deps"
export PKG_CONFIG_LIBDIR="$PKG_CONFIG_PATH"
export ERNIE_CUDA_EXPERIMENTAL=1
start=$(date +%s)
step() { echo "== $* ($(( $(date +%s) - start )) s)"; }

step "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv 2>&1 | tee "$out/machine.txt"
nproc | sed 's/^/cpus: /' | tee -a "$out/machine.txt"

step "build (Release, sm_90)"
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DERNIE_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DCMAKE_PREFIX_PATH="$deps/usr" >"$out/build.log" 2>&1 &&
  cmake --build build-gpu --target ernie_cli ernie_cuda ernie_gpu_tests ernie_gpu_probe -j "$(nproc)" >>"$out/build.log" 2>&1
rc=$?
tail -n 30 "$out/build.log"
[ $rc -eq 0 ] || { echo "build failed"; exit 1; }
bin=build-gpu/bin

step "backends"
$bin/ernie backends | tee "$out/backends.txt"

step "GPU tests"
timeout 240 $bin/ernie_gpu_tests 2>&1 | tee "$out/gpu-tests.log" | tail -n 60
tests_rc=${PIPESTATUS[0]}

step "device read bandwidth"
$bin/ernie_gpu_probe | tee "$out/probe.json"

step "synthetic 21b-a3b q4"
model=/tmp/ernie-21b-a3b-q4.ernie
$bin/ernie synth --preset 21b-a3b --quant q4 --seed 1 -o "$model" 2>&1 | tail -n 2

step "bench: prefill 2048, decode 64 (CUDA)"
ERNIE_BACKEND=cuda timeout 150 $bin/ernie bench -m "$model" -p 2048 -n 64 --probe-mib 256 --json | tee "$out/bench.json"
step "bench: decode at depth 4096 (CUDA)"
ERNIE_BACKEND=cuda timeout 90 $bin/ernie bench -m "$model" -p 128 -n 64 -d 4096 --probe-mib 256 --json | tee "$out/bench-d4096.json"

step "summary"
python3 - "$out" <<'PY' | tee "$out/summary.txt"
import json, sys, os
out = sys.argv[1]
def load(name):
    try:
        return json.load(open(os.path.join(out, name)))
    except Exception as e:
        return {"error": str(e)}
probe, b, d = load("probe.json"), load("bench.json"), load("bench-d4096.json")
bw = probe.get("read_gbps")
print("device read bandwidth GB/s:", bw)
for name, r in (("depth 0", b), ("depth 4096", d)):
    if "error" in r:
        print(name, "bench failed:", r["error"]); continue
    tg, pp, bpt = r.get("tg_tok_s"), r.get("pp_tok_s"), r.get("bytes_per_token")
    frac = tg * bpt / (bw * 1e9) if (tg and bpt and bw) else None
    print(f"{name} ({r.get('backend')}): prefill {pp} tok/s, decode {tg} tok/s, bytes/token {bpt}, GPU decode roofline fraction {frac}")
PY
step "done"
exit $tests_rc
