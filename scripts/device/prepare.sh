#!/usr/bin/env bash
# On the dev machine, before a GPU run: copies the small files the GPU host needs into
# artifacts/device (ignored by git; carried with artifacts): stories260K.gguf and the Llama SPM
# vocabulary the synthetic models take their tokenizer from. Model weights are never carried:
# cuda-bench.sh synthesizes them there.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p artifacts/device
cp ../shared/models/stories260K.gguf ../shared/vocab/ggml-vocab-llama-spm.gguf artifacts/device/
# --snapshot: also freeze the published binary and those files in artifacts/gpu (carry that
# alone, with LLCUDA_ARTIFACTS=artifacts/gpu), so later local builds do not change what runs.
if [ "${1:-}" = "--snapshot" ]; then
  rm -rf artifacts/gpu && mkdir -p artifacts/gpu
  cp -r artifacts/bin artifacts/device artifacts/gpu/
  git rev-parse --short HEAD >artifacts/gpu/commit
  du -sh artifacts/gpu
else
  du -sh artifacts
fi
