#!/usr/bin/env bash
# Pushes and pulls one random blob (default 1024 MB) through a local CNCF distribution registry
# (docker-registry, filesystem storage) with OciRegistryClient and prints MB/s.
#   scripts/bench-registry.sh [SIZE_MB] [ROUNDS]
# Work files live in $BENCH_DIR (default: a temp dir under /tmp; needs ~3x SIZE_MB free).
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1024}
rounds=${2:-3}
scripts/install-test-servers.sh
command -v docker-registry >/dev/null || { echo "bench-registry.sh: docker-registry is not installed (scripts/install-test-servers.sh needs root or sudo)" >&2; exit 1; }

dir=$(mktemp -d "${BENCH_DIR:-/tmp}/llcuda-bench-registry.XXXXXX")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$dir/config.yml" <<YML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
http:
  addr: 127.0.0.1:$port
  secret: llcuda-bench
YML
docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

dotnet run -c Release --project bench/LlCuda.Benchmarks -- registry-quick "http://127.0.0.1:$port" "$size" "$dir" "$rounds"
