// The AtomicWriter layout: timestamped payload dir, `..data` symlink, per-name links; updates swap
// the payload in one rename, drop removed keys and the old payload; identical content is a no-op.
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { validatePayloadPath, writeAtomically } from '../../node-agent/runtime/docker/atomic-writer.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'atomic-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const payload = (entries: Record<string, string>, mode = 0o644) => new Map(Object.entries(entries).map(([k, v]) => [k, { data: Buffer.from(v), mode }]));

test('layout, update, removal of keys, no-op on identical content', async () => {
  await writeAtomically(dir, payload({ a: '1', 'sub/b': '2' }, 0o640));
  const first = readlinkSync(path.join(dir, '..data'));
  expect(first).toMatch(/^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.[0-9a-f]+$/);
  expect(readlinkSync(path.join(dir, 'a'))).toBe('..data/a');
  expect(readlinkSync(path.join(dir, 'sub'))).toBe('..data/sub');
  expect(readFileSync(path.join(dir, 'sub/b'), 'utf8')).toBe('2');
  expect(statSync(path.join(dir, 'a')).mode & 0o777).toBe(0o640);

  await writeAtomically(dir, payload({ a: '1', 'sub/b': '2' }, 0o640));
  expect(readlinkSync(path.join(dir, '..data'))).toBe(first);

  await writeAtomically(dir, payload({ a: 'changed' }));
  const second = readlinkSync(path.join(dir, '..data'));
  expect(second).not.toBe(first);
  expect(readFileSync(path.join(dir, 'a'), 'utf8')).toBe('changed');
  expect(() => lstatSync(path.join(dir, 'sub'))).toThrow();
  expect(readdirSync(dir).sort()).toEqual([second, '..data', 'a'].sort());
});

test('paths must stay inside the volume', () => {
  for (const bad of ['/abs', '../up', 'a/../../b', '..hidden']) expect(() => validatePayloadPath(bad)).toThrow();
  expect(() => validatePayloadPath('ok/nested.txt')).not.toThrow();
});
