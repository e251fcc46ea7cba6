#!/usr/bin/env bash
# Builds llcuda and publishes the CLI as a NativeAOT executable at artifacts/bin/llcuda.
# Installs what a fresh machine (only the .NET SDK, g++, cmake) lacks.
set -euo pipefail
cd "$(dirname "$0")"

need_apt=()
# NativeAOT links with the platform toolchain (gcc here) and needs zlib's static library.
dpkg -s zlib1g-dev >/dev/null 2>&1 || need_apt+=(zlib1g-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "build.sh: installing ${need_apt[*]}" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

dotnet build llcuda.slnx -c Release -nologo -v quiet "$@"
dotnet publish src/LlCuda.Cli/LlCuda.Cli.csproj -c Release -nologo -v quiet -o artifacts/bin
rm -f artifacts/bin/*.pdb artifacts/bin/*.dbg
echo "build.sh: published $(pwd)/artifacts/bin/llcuda"
