#!/usr/bin/env bash
# Runs the test suites (unit and integration, on a real redis-server and real API server
# processes) after installing what is missing and building; ends with "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh || exit 1
results=$(mktemp)
npm test -- --json --outputFile="$results" "$@"
rc=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed`);
' "$results" 2>/dev/null || echo "0 passed, 1 failed"
rm -f "$results"
exit $rc
