#!/usr/bin/env node
// `npm run conformance`: builds, starts one cluster (test/conformance/global-setup.mjs), runs the
// conformance suite against it in two passes (everything but [Serial] with two workers, then the
// [Serial] rows one at a time), and prints `conformance: N/98 passed` followed by each row that
// did not pass with its first error. Exits non-zero when a row listed in
// test/conformance/expected-passes.txt did not pass (a regression), or the suite could not run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../', import.meta.url).pathname;
const SUITE = join(ROOT, 'test/conformance');
const lines = (file) => readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
const subset = lines(join(SUITE, 'subset.txt'));
const expected = existsSync(join(SUITE, 'expected-passes.txt')) ? lines(join(SUITE, 'expected-passes.txt')) : [];

execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
const { default: setup } = await import(join(SUITE, 'global-setup.mjs'));
const { default: teardown } = await import(join(SUITE, 'global-teardown.mjs'));
await setup();

const results = new Map(); // codename -> first error, or '' when passed
const outDir = mkdtempSync(join(tmpdir(), 'podium-conformance-results-'));
const jest = (name, args) => {
  const out = join(outDir, `${name}.json`);
  spawnSync(process.execPath, ['--experimental-vm-modules', join(ROOT, 'node_modules/jest/bin/jest.js'), '--config', join(ROOT, 'jest.conformance.config.js'), '--json', `--outputFile=${out}`, ...args, ...process.argv.slice(2)], { cwd: ROOT, stdio: 'inherit', env: process.env });
  if (!existsSync(out)) return;
  for (const file of JSON.parse(readFileSync(out, 'utf8')).testResults ?? []) {
    for (const t of file.assertionResults ?? []) {
      if (t.status === 'pending' || t.status === 'skipped') continue;
      const first = (t.failureMessages?.[0] ?? 'failed').split('\n').find((l) => l.trim()) ?? 'failed';
      results.set(t.title, t.status === 'passed' ? '' : first.trim());
    }
    if (file.status === 'failed' && !(file.assertionResults ?? []).length) results.set(`(file ${file.name})`, (file.message ?? '').split('\n').find((l) => l.trim()) ?? 'failed to run');
  }
};
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const retried = [];
try {
  jest('parallel', ['--maxWorkers=2', '--testNamePattern', '^(?!.*\\[Serial\\])']);
  jest('serial', ['--runInBand', '--testNamePattern', '\\[Serial\\]']);
  // A row that passed before and fails now runs once more, alone, before it counts as a
  // regression: on two busy cores a timing-sensitive row can lose a race it normally wins.
  const failedExpected = expected.filter((c) => results.get(c) !== '');
  if (failedExpected.length) {
    retried.push(...failedExpected.map((c) => `${c}: ${results.get(c) ?? 'no result'}`));
    jest('retry', ['--runInBand', '--testNamePattern', `(${failedExpected.map(escape).join('|')})`]);
  }
} finally {
  await teardown();
  rmSync(outDir, { recursive: true, force: true });
}

const passed = subset.filter((c) => results.get(c) === '');
process.stdout.write(`\nconformance: ${passed.length}/${subset.length} passed\n`);
for (const c of subset) {
  if (results.get(c) === '') continue;
  process.stdout.write(`  FAIL ${c}\n       ${results.has(c) ? results.get(c) : 'no test'}\n`);
}
const unknown = [...results.keys()].filter((t) => !subset.includes(t));
for (const t of unknown) process.stdout.write(`  (not in the subset) ${t}: ${results.get(t) === '' ? 'passed' : results.get(t)}\n`);
if (retried.length) process.stdout.write(`\nretried once (failed on the first run):\n${retried.map((r) => `  ${r}`).join('\n')}\n`);
const regressions = expected.filter((c) => results.get(c) !== '');
if (regressions.length) {
  process.stdout.write(`\nregressions (in expected-passes.txt, not passing now): ${regressions.length}\n${regressions.map((c) => `  ${c}`).join('\n')}\n`);
  process.exit(1);
}
