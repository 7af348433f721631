#!/usr/bin/env bash
# Runs the test suites (unit and integration, on a real redis-server and real API server
# processes, real Docker), then the conformance suite against a cluster of its own, after
# installing what is missing and building; ends with "N passed, M failed". Arguments go to
# jest and skip the conformance suite (a partial run).
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh || exit 1
results=$(mktemp)
npm test -- --json --outputFile="$results" "$@"
rc=$?
counts=$(node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.numPassedTests} ${r.numFailedTests}`);
' "$results" 2>/dev/null || echo "0 1")
rm -f "$results"
read -r passed failed <<<"$counts"
echo "jest: $passed passed, $failed failed"
if [ $# -eq 0 ]; then
  # A cluster that scripts/up.sh brought up on this host is the one to test: a second Docker
  # cluster here would fight the first over the pod bridge, its iptables chains and DNS address.
  if [ -z "${CONFORMANCE_KUBECONFIG:-}" ] && [ -f .podium/kubeconfig ] && kubectl --kubeconfig .podium/kubeconfig get --raw /readyz >/dev/null 2>&1; then
    export CONFORMANCE_KUBECONFIG=$PWD/.podium/kubeconfig
    echo "conformance: testing the running cluster of .podium/kubeconfig"
  fi
  conformance=$(mktemp)
  node scripts/conformance.mjs 2>&1 | tee "$conformance"
  crc=${PIPESTATUS[0]}
  # Rows that pass count as passed; a row that passed before and fails now (exit 1) is a failure.
  cpassed=$(sed -n 's/^conformance: \([0-9]*\)\/[0-9]* passed$/\1/p' "$conformance" | tail -1)
  cregressions=$(sed -n 's/^regressions (in expected-passes.txt, not passing now): \([0-9]*\)$/\1/p' "$conformance" | tail -1)
  rm -f "$conformance"
  passed=$((passed + ${cpassed:-0}))
  if [ "$crc" -ne 0 ]; then failed=$((failed + ${cregressions:-1})); rc=1; fi
fi
echo "$passed passed, $failed failed"
exit $rc
