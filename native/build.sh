#!/bin/sh
# Rebuilds the prebuilt addons (native/linux-x64/*.node: pipe.c, spawn.c), which are
# committed: users never compile them. Needs gcc on Linux x86-64 and Node's headers (beside
# the node binary). No libc: raw system calls, so each binary loads under glibc and musl alike
# (no loop may become a call to memset or memcpy, hence -fno-tree-loop-distribute-patterns).
set -eu
cd "$(dirname "$0")"
include="$(dirname "$(dirname "$(command -v node)")")/include/node"
mkdir -p linux-x64
for addon in pipe spawn; do
  gcc -O2 -shared -fPIC -nostdlib -fno-stack-protector -fno-tree-loop-distribute-patterns \
    -fvisibility=hidden -DNAPI_VERSION=8 -I"$include" -Wl,--build-id=none -s "$addon.c" \
    -o "linux-x64/$addon.node"
done
