#!/usr/bin/env bash
# Makes Docker usable on a fresh Debian machine (as root): installs docker.io, starts dockerd in
# the background when no daemon answers, and builds the local test image the Docker tests run
# (podium.local/busybox:1.35: Debian's static busybox and its applets, imported; no registry needed).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! command -v dockerd >/dev/null 2>&1; then
  echo "installing docker.io" >&2
  apt-get update -qq >/dev/null && apt-get install -y -qq docker.io >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  echo "starting dockerd" >&2
  (setsid dockerd >/tmp/podium-dockerd.log 2>&1 &)
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { tail -20 /tmp/podium-dockerd.log >&2; echo "dockerd did not start" >&2; exit 1; }
fi
image=podium.local/busybox:1.35
if ! docker image inspect "$image" >/dev/null 2>&1; then
  busybox=/bin/busybox
  if ! file -L "$busybox" 2>/dev/null | grep -q 'statically linked'; then
    apt-get install -y -qq busybox-static file >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq busybox-static file >/dev/null; }
  fi
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root"/{bin,etc,tmp,root,proc,sys,dev}
  cp "$busybox" "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"; done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
  echo 'root:x:0:' >"$root/etc/group"
  chmod 1777 "$root/tmp"
  tar -C "$root" -c . | docker import -c 'ENV PATH=/bin' -c 'CMD ["sh"]' - "$image" >/dev/null
  echo "built $image" >&2
fi
