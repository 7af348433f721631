#!/usr/bin/env bash
# Quick start: install what is missing, build, and bring a cluster up in .podium/ on port 6443.
# Extra arguments go to `podium up` (e.g. --port 7443).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh
exec npx podium up --data-dir "${PODIUM_DATA_DIR:-.podium}" "$@"
