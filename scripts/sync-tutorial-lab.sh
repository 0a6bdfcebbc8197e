#!/bin/sh
# tutorial-lab/ is tutorial/ with the lab's Ceph variant in place of stage 10 (LVM + iSCSI).
# Every other file is a copy of tutorial/'s: run this after editing tutorial/ (a test checks it).
set -eu
cd "$(dirname "$0")/.."
for f in tutorial/[0-9]*.md; do
  n=$(basename "$f")
  case "$n" in 10-cinder-volume-lvm.md) continue ;; esac
  cp "$f" "tutorial-lab/$n"
done
