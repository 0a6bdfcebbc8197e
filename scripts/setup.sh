#!/usr/bin/env bash
# Set up a fresh Debian 12 machine for stackcheck: host packages (lab, sshd for tests, chromium for
# report tests), then the npm dependencies and the compiled CLI. Idempotent; safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: run as root (the lab needs LXC and a bridge): sudo bash scripts/setup.sh" >&2
  exit 2
fi

APT_PACKAGES=(
  lxc debootstrap apt-cacher-ng bridge-utils rsync iproute2 iptables  # the lab
  openssh-server openssh-client sudo                                    # SSH tests against a real sshd
  chromium                                                            # report rendering tests
  ca-certificates git
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# The system sshd is not needed (tests start their own on 127.0.0.1).
systemctl disable --now ssh.service >/dev/null 2>&1 || true

echo "setup: npm ci"
npm ci --no-audit --no-fund
echo "setup: done ($(node --version), $(npx tsc --version))"
