#!/bin/sh
# Rebuilds the prebuilt pipe addon (native/linux-x64/pipe.node), which is committed: users
# never compile it. Needs gcc on Linux x86-64 and Node's headers (beside the node binary).
# No libc: raw system calls, so the one binary loads under glibc and musl alike.
set -eu
cd "$(dirname "$0")"
include="$(dirname "$(dirname "$(command -v node)")")/include/node"
mkdir -p linux-x64
gcc -O2 -shared -fPIC -nostdlib -fno-stack-protector -fvisibility=hidden -DNAPI_VERSION=8 \
  -I"$include" -Wl,--build-id=none -s pipe.c -o linux-x64/pipe.node
