#!/usr/bin/env bash
# Installs what running Podium needs on a fresh Debian machine with Node 20 (as root):
# redis-server from Debian, Docker (scripts/ensure-docker.sh: docker.io, a running dockerd, the
# local test image), the npm dependencies, and the build.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v redis-server >/dev/null 2>&1; then
  echo "installing redis-server" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq redis-server >/dev/null
fi
scripts/ensure-docker.sh
lock_hash=$(sha256sum package-lock.json | cut -c1-16)
if [ ! -f node_modules/.podium-lock-$lock_hash ]; then
  npm ci --no-audit --no-fund >&2
  touch node_modules/.podium-lock-$lock_hash
fi
npm run --silent build >&2
