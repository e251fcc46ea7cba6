#!/usr/bin/env bash
# The CUDA backend end to end ON a GPU machine, with only the published binary there (no .NET,
# no network): selftest (kernels and synthetic models against the CPU engine), stories260K
# greedy text, compute-sanitizer memcheck over a prefill + decode run, and `llcuda bench` on
# synthetic models of the shapes in ../shared/ANCHORS.md. Ends with a short table.
#
#   scripts/device/prepare.sh                  # on the dev machine: copies what must travel
#   STAGES="selftest stories tiny memcheck" scripts/device/cuda-bench.sh   # on the GPU host
#   (or: scripts/device/prepare.sh --snapshot, carry artifacts/gpu, LLCUDA_ARTIFACTS=artifacts/gpu)
#
# Stages (default: all but 7b, parallel and ncu): selftest, stories, tiny (TinyLlama
# Q4_0/Q4_K_M/F16), 7b (Llama-2-7B, SEVEN_B_TYPES, default "q4_0 q4_k_m f16"), parallel
# (bench --parallel through the serving engine), memcheck, ncu (per-kernel times of TinyLlama
# decode steps).
# Logs and JSON under $OUT (else artifacts/cuda-bench). Models are synthesized on the GPU
# host's disk (weights need not travel); REPS sets bench repetitions (default 3).
set -uo pipefail
cd "$(dirname "$0")/../.."

# LLCUDA_ARTIFACTS: a folder with bin/llcuda and device/ (default artifacts; a snapshot such as
# artifacts/gpu keeps the binary under test apart from later local builds).
art="${LLCUDA_ARTIFACTS:-artifacts}"
bin=$art/bin/llcuda
travel=$art/device
logs="${OUT:-artifacts/cuda-bench}"
models="${MODELS:-/tmp/llcuda-models}"
stages="${STAGES:-selftest stories tiny memcheck}"
reps="${REPS:-3}"
mkdir -p "$logs" "$models"
export LLCUDA_HOME="${LLCUDA_HOME:-/tmp/llcuda-home}"
[ -x "$bin" ] || { echo "cuda-bench: $bin not found: run ./build.sh and scripts/device/prepare.sh, carry artifacts" >&2; exit 2; }
has() { [[ " $stages " == *" $1 "* ]]; }
summary=()
note() { summary+=("$1"); echo "== $1"; }

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv | tee "$logs/nvidia-smi.log"
"$bin" system-info >"$logs/system-info.log" 2>&1

if has selftest; then
  start=$SECONDS
  "$bin" selftest --device cuda >"$logs/selftest.log" 2>&1; code=$?
  cat "$logs/selftest.log"
  note "selftest: exit $code, $((SECONDS - start)) s, $(grep -c ' PASS\|pass ' "$logs/selftest.log" || true) lines pass"
fi

if has stories; then
  expect="Once upon a time, there was a little girl named Lily. She loved to play outside in the park."
  for dev in cuda cpu; do
    "$bin" infer -m "$travel/stories260K.gguf" -p "" --temp 0 -n 40 --device "$dev" >"$logs/stories-$dev.txt" 2>"$logs/stories-$dev.err"
  done
  if grep -qF "$expect" "$logs/stories-cuda.txt"; then note "stories260K greedy on cuda: exact"; else note "stories260K greedy on cuda: WRONG: $(head -c 200 "$logs/stories-cuda.txt")"; fi
fi

# The benchmark models, synthesized in the background from the start (while the selftest
# keeps the GPU busy); synth writes atomically, so a file that exists is complete.
wanted=()
has tiny && wanted+=("tl-q4_0 tinyllama-1.1b q4_0" "tl-q4_k_m tinyllama-1.1b q4_k_m" "tl-f16 tinyllama-1.1b f16")
has memcheck && ! has tiny && wanted+=("tl-q4_k_m tinyllama-1.1b q4_k_m")
seven="${SEVEN_B_TYPES:-q4_0 q4_k_m f16}"
if has 7b; then for t in $seven; do wanted+=("l7-${t} llama2-7b ${t}"); done; fi
has parallel && ! has tiny && wanted=("tl-q4_0 tinyllama-1.1b q4_0" "${wanted[@]}")
( for w in "${wanted[@]}"; do
    set -- $w
    [ -f "$models/$1.gguf" ] || "$bin" model synth --preset "$2" --vocab-from "$travel/ggml-vocab-llama-spm.gguf" --type "$3" -t 12 -o "$models/$1.gguf" >"$logs/synth-$1.log" 2>&1
  done ) &
synth_pid=$!
synth() { # name: waits for the background synthesis of that model
  local out="$models/$1.gguf"
  while [ ! -f "$out" ] && kill -0 "$synth_pid" 2>/dev/null; do sleep 1; done
  echo "$out"
}
bench() { # name preset type
  local m; m=$(synth "$1")
  "$bin" bench -m "$m" -p 512 -n 128 -r "$reps" --device cuda --json >"$logs/bench-$1.json" 2>"$logs/bench-$1.err"
  local pp tg vram
  pp=$(grep -o '"pp_tps":[0-9.]*' "$logs/bench-$1.json" | cut -d: -f2)
  tg=$(grep -o '"tg_tps":[0-9.]*' "$logs/bench-$1.json" | cut -d: -f2)
  vram=$(grep -o '"vram_bytes":[0-9]*' "$logs/bench-$1.json" | head -1 | cut -d: -f2)
  note "bench $1: pp512 ${pp:-?} t/s, tg128 ${tg:-?} t/s, vram $(( ${vram:-0} / 1048576 )) MiB $(tail -c 300 "$logs/bench-$1.err" | tr '\n' ' ')"
}

if has tiny; then
  LLCUDA_CUDA_GRAPHS=0 bench tl-q4_0 tinyllama-1.1b q4_0 && mv "$logs/bench-tl-q4_0.json" "$logs/bench-tl-q4_0-nographs.json"
  summary[-1]="${summary[-1]/bench tl-q4_0:/bench tl-q4_0 without CUDA graphs:}"
  bench tl-q4_0 tinyllama-1.1b q4_0
  bench tl-q4_k_m tinyllama-1.1b q4_k_m
  bench tl-f16 tinyllama-1.1b f16
fi
if has 7b; then
  for t in $seven; do bench "l7-$t" llama2-7b "$t"; done
fi

# Continuous batching (issue 5): aggregate decode t/s of B sequences through the serving
# engine (bench --parallel, llama-batched-bench's S_TG), TinyLlama Q4_0 and, with 7b, 7B Q4_0.
if has parallel; then
  for name in tl-q4_0 $(has 7b && [[ " $seven " == *" q4_0 "* ]] && echo l7-q4_0); do
    m=$(synth "$name")
    "$bin" bench -m "$m" -p 128 -n 128 -r 1 --parallel "${PARALLEL:-1,4,8,16,32,64}" --device cuda --json >"$logs/parallel-$name.json" 2>"$logs/parallel-$name.err"
    note "parallel $name: $(grep -o '"test":"[^"]*","tps_mean":[0-9.]*' "$logs/parallel-$name.json" | sed 's/"test":"//; s/","tps_mean":/ /' | tr '\n' ';') $(tail -c 200 "$logs/parallel-$name.err" | tr '\n' ' ')"
  done
fi

if has memcheck; then
  sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
  # Every kernel (selftest --quick: checked, not timed), then a whole prefill (GEMM path, > 8
  # tokens) and decode (graphs, argmax) of TinyLlama Q4_K_M (Q4_K and Q6_K weights).
  start=$SECONDS
  timeout "${MEMCHECK_TIMEOUT:-200}" "$sanitizer" --tool memcheck --leak-check full --error-exitcode 3 "$bin" selftest --device cuda --quick --no-models >"$logs/memcheck-kernels.log" 2>&1; code=$?
  note "memcheck selftest --quick --no-models: exit $code, $((SECONDS - start)) s, $(grep -o 'ERROR SUMMARY: [0-9]* errors' "$logs/memcheck-kernels.log" | tail -1)"
  m=$(synth tl-q4_k_m)
  prompt="Once upon a time there was a small town by the sea where every morning the fishermen went out in their boats and every evening the children ran down to the harbour to see what they had caught that day"
  start=$SECONDS
  timeout "${MEMCHECK_TIMEOUT:-200}" "$sanitizer" --tool memcheck --leak-check full --error-exitcode 3 "$bin" infer -m "$m" -p "$prompt" -n 12 --temp 0 --device cuda >"$logs/memcheck-infer.log" 2>&1; code=$?
  note "memcheck infer TinyLlama Q4_K_M (prefill of ~45 tokens + 12 decoded): exit $code, $((SECONDS - start)) s, $(grep -o 'ERROR SUMMARY: [0-9]* errors' "$logs/memcheck-infer.log" | tail -1)"
fi

if has ncu; then
  m=$models/tl-q4_0.gguf
  # Two decode steps' kernels (graph nodes profiled one by one), after the warm-up.
  timeout 300 ncu --graph-profiling node --launch-skip 400 --launch-count 460 --csv --page raw --metrics gpu__time_duration.sum,dram__bytes.sum \
    "$bin" bench -m "$m" -p 0 -n 8 -r 1 --device cuda >"$logs/ncu.csv" 2>"$logs/ncu.err"
  note "ncu: exit $?, $(wc -l <"$logs/ncu.csv") lines"
fi

kill "$synth_pid" 2>/dev/null
echo
echo "cuda-bench summary ($(date -u +%FT%TZ))"
for line in "${summary[@]}"; do echo "  $line"; done
