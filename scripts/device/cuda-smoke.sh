#!/usr/bin/env bash
# Smoke test of llcuda's CUDA backend ON a GPU machine, with no .NET there: run from the
# repository root with the published NativeAOT binary present (./build.sh on the dev machine
# writes artifacts/bin/llcuda; carry artifacts/bin to the GPU host).
#
#   scripts/device/cuda-smoke.sh            # logs under $OUT if set, else artifacts/cuda-smoke/
#
# Steps: nvidia-smi -L, llcuda system-info, llcuda selftest --device cuda, and the selftest
# again under compute-sanitizer memcheck (when installed; with a smaller bandwidth buffer, as
# memcheck slows every access). Ends with a summary table; exits 1 when any step failed.
set -uo pipefail
cd "$(dirname "$0")/../.."

bin=artifacts/bin/llcuda
logs="${OUT:-artifacts/cuda-smoke}"
mkdir -p "$logs"
if [ ! -x "$bin" ]; then
  echo "cuda-smoke: $bin not found: run ./build.sh on the dev machine and carry artifacts/bin here" >&2
  exit 2
fi

names=(); codes=(); notes=()
# step NAME LOGFILE COMMAND...: runs it, shows its output, keeps the log and the exit code.
step() {
  local name=$1 log=$2; shift 2
  echo "=== $name: $*"
  local start=$SECONDS
  "$@" >"$logs/$log" 2>&1
  local code=$?
  cat "$logs/$log"
  echo "=== $name: exit $code after $((SECONDS - start)) s"
  names+=("$name"); codes+=("$code"); notes+=("$logs/$log")
}

step "nvidia-smi" nvidia-smi.log nvidia-smi -L
step "system-info" system-info.log "$bin" system-info
step "selftest" selftest.log "$bin" selftest --device cuda
"$bin" selftest --device cuda --json >"$logs/selftest.json" 2>"$logs/selftest-json.stderr" || true

sanitizer=$(command -v compute-sanitizer || true)
[ -z "$sanitizer" ] && [ -x /usr/local/cuda/bin/compute-sanitizer ] && sanitizer=/usr/local/cuda/bin/compute-sanitizer
if [ -n "$sanitizer" ]; then
  # --error-exitcode: a memory error fails the step even if the selftest's own checks pass.
  step "memcheck" memcheck.log "$sanitizer" --tool memcheck --leak-check full --error-exitcode 3 \
    "$bin" selftest --device cuda --quick
else
  names+=("memcheck"); codes+=("-"); notes+=("compute-sanitizer not installed: skipped")
fi

bandwidth=$(grep -o '[0-9]* GB/s read+write' "$logs/selftest.log" | head -1)
echo
echo "cuda-smoke summary ($(date -u +%FT%TZ), $(hostname))"
printf '%-12s %-6s %s\n' "step" "exit" "log / note"
failed=0
for i in "${!names[@]}"; do
  printf '%-12s %-6s %s\n' "${names[$i]}" "${codes[$i]}" "${notes[$i]}"
  if [ "${codes[$i]}" != "0" ] && [ "${codes[$i]}" != "-" ]; then failed=1; fi
done
[ -n "$bandwidth" ] && echo "copy bandwidth: $bandwidth"
if [ "$failed" -eq 0 ]; then echo "cuda-smoke: PASS"; else echo "cuda-smoke: FAIL"; fi
exit "$failed"
