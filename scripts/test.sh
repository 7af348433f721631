#!/usr/bin/env bash
# Runs the test suites (unit and integration, on a real redis-server and real API server
# processes) after installing what is missing and building.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh
exec npm test -- "$@"
