#!/usr/bin/env bash
# Side-by-side CPU benchmark: llcuda's native engine and llama.cpp (--engine llamacpp, the
# bundled LLamaSharp 0.30 CPU build) on the same GGUF files, alternating engine by engine for
# ROUNDS rounds so the shared machine's load hits both alike. Prints per-round figures, then
# medians and ratios (ours / llama.cpp). Also records each engine's peak resident memory
# (GNU time's maximum RSS) for the last round.
#
# usage: scripts/bench-cpu-side-by-side.sh MODEL.gguf [MODEL.gguf ...]
# environment: ROUNDS (5), PP (64), TG (32), REPS (3), THREADS (2), LLCUDA (artifacts/bin/llcuda)
# Synthesize the issue's models first, e.g.:
#   llcuda model synth --preset tinyllama-1.1b --vocab-from ../shared/vocab/ggml-vocab-llama-spm.gguf --type q4_0 -o /tmp/tl-q4_0.gguf
set -euo pipefail
ROUNDS=${ROUNDS:-5} PP=${PP:-64} TG=${TG:-32} REPS=${REPS:-3} THREADS=${THREADS:-2}
LLCUDA=${LLCUDA:-artifacts/bin/llcuda}
[ $# -ge 1 ] || { echo "usage: $0 MODEL.gguf [MODEL.gguf ...]" >&2; exit 2; }
command -v python3 >/dev/null || { echo "bench-cpu-side-by-side: needs python3 for the medians" >&2; exit 69; }
[ -x /usr/bin/time ] || { echo "bench-cpu-side-by-side: needs GNU time (apt-get install time)" >&2; exit 69; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), pp$PP tg$TG, $REPS reps, $THREADS threads, $ROUNDS rounds"
for model in "$@"; do
  for round in $(seq "$ROUNDS"); do
    for engine in native llamacpp; do
      /usr/bin/time -f '%M' -o "$out/rss" "$LLCUDA" bench -m "$model" -p "$PP" -n "$TG" -r "$REPS" -t "$THREADS" --engine "$engine" --json > "$out/json"
      python3 - "$model" "$engine" "$round" "$out/json" "$out/rss" >> "$out/rows" <<'PY'
import json, sys
model, engine, rnd, jpath, rsspath = sys.argv[1:]
j = json.load(open(jpath))
print(json.dumps({"model": model, "engine": engine, "round": int(rnd), "pp": j["pp_tps"], "tg": j["tg_tps"], "rss_kb": int(open(rsspath).read().split()[-1])}))
PY
      tail -1 "$out/rows"
    done
  done
done
python3 - "$out/rows" "$PP" "$TG" <<'PY'
import json, os, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
pp, tg = sys.argv[2], sys.argv[3]
print()
print(f"| model | size | test | llcuda t/s (median) | llama.cpp t/s (median) | ratio | llcuda peak RSS | llama.cpp peak RSS |")
print("|---|---|---|---|---|---|---|---|")
for model in dict.fromkeys(r["model"] for r in rows):
    size = os.path.getsize(model) / 2**20
    for test, key in (("pp" + pp, "pp"), ("tg" + tg, "tg")):
        med = {e: statistics.median(r[key] for r in rows if r["model"] == model and r["engine"] == e) for e in ("native", "llamacpp")}
        rss = {e: max(r["rss_kb"] for r in rows if r["model"] == model and r["engine"] == e) / 1024 for e in ("native", "llamacpp")}
        print(f"| {os.path.basename(model)} | {size:.0f} MiB | {test} | {med['native']:.1f} | {med['llamacpp']:.1f} | {med['native'] / med['llamacpp']:.2f}x | {rss['native']:.0f} MiB | {rss['llamacpp']:.0f} MiB |")
PY
