#!/usr/bin/env bash
# Set up a fresh Debian 12 machine for stackcheck: the host packages of host-packages.txt (the one list:
# the lab, sshd and sudo for tests, chromium for report tests, git), then the npm dependencies and the
# compiled CLI. Idempotent; safe to re-run. `bash scripts/setup.sh --list` prints the packages and exits.
set -euo pipefail
cd "$(dirname "$0")/.."

LIST=host-packages.txt

# One package per line; `#` to the end of a line is a comment (src/lab/host-deps.ts parses it the same way).
read_list() {
  local n=0 line
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    line="${line%%#*}"
    line="${line#"${line%%[![:space:]]*}"}"
    line="${line%"${line##*[![:space:]]}"}"
    [ -z "$line" ] && continue
    if ! [[ "$line" =~ ^[a-z0-9][a-z0-9+.-]+$ ]]; then
      echo "setup: $LIST:$n: \"$line\" is not one Debian package name" >&2
      return 2
    fi
    echo "$line"
  done <"$LIST"
}

list_out="$(read_list)"
APT_PACKAGES=()
if [ -n "$list_out" ]; then mapfile -t APT_PACKAGES <<<"$list_out"; fi
if [ ${#APT_PACKAGES[@]} -eq 0 ]; then
  echo "setup: no packages read from $LIST" >&2
  exit 2
fi
if [ "${1:-}" = "--list" ]; then
  printf '%s\n' "${APT_PACKAGES[@]}"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: run as root (the lab needs LXC and a bridge): sudo bash scripts/setup.sh" >&2
  exit 2
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]} (from $LIST)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: host packages present (${APT_PACKAGES[*]})"
fi
# The system sshd is not needed (tests start their own on 127.0.0.1).
systemctl disable --now ssh.service >/dev/null 2>&1 || true

echo "setup: npm ci"
npm ci --no-audit --no-fund
echo "setup: done ($(node --version), $(npx tsc --version))"
