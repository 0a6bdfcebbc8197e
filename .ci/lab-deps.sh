#!/usr/bin/env bash
# What the lab (stackcheck lab, test/lab/*.it.test.ts) needs on a Debian 12 host. `stackcheck lab up`
# installs the same packages itself when they are missing; CI installs them up front to keep the
# test's timing about the lab, not apt. Idempotent.
set -euo pipefail
pkgs=(lxc debootstrap apt-cacher-ng openssh-client openssh-server rsync iproute2)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "lab-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "lab-deps: all present (${pkgs[*]})"
fi
