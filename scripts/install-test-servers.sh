#!/usr/bin/env bash
# Installs the real servers the storage-remote tests run against on 127.0.0.1:
#   docker-registry  CNCF distribution 2.8 (an OCI registry)
#   nginx-light      HTTP server with the WebDAV PUT/DELETE methods (stands in for a SeaweedFS filer)
#   apache2-utils    htpasswd, to make the bcrypt hash the registry's basic auth needs
# Idempotent: checks dpkg first and runs apt-get update at most once. Never fails the caller:
# the tests skip with a reason when a server is missing.
set -uo pipefail

want=(docker-registry nginx-light apache2-utils)
need=()
# dpkg -s also succeeds for removed packages whose config files remain: check the status word.
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in "${want[@]}"; do installed "$p" || need+=("$p"); done
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo -n"; else
  echo "install-test-servers.sh: not root and no sudo; cannot install ${need[*]} (the storage-remote tests will skip)" >&2
  exit 0
fi
echo "install-test-servers.sh: installing ${need[*]}" >&2
$SUDO apt-get update -qq >/dev/null 2>&1 || true
# policy-rc.d 101 keeps the packages' postinst from starting system services (the tests start
# their own on free ports; a system nginx on :80 or registry on :5000 would only get in the way).
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null && $SUDO chmod +x "$policy" && made_policy=1
fi
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 \
  || echo "install-test-servers.sh: apt-get install ${need[*]} failed (the storage-remote tests that need them will skip)" >&2
[ "$made_policy" = 1 ] && $SUDO rm -f "$policy"
exit 0
