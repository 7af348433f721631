// The pause image builders: the generated ELF executable and the ustar archive. The x86-64 binary
// is also run on an x86-64 host to show it sleeps until SIGTERM/SIGINT and then exits 0.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { buildPauseElf } from '../../node-agent/runtime/docker/pause-elf.js';
import { pauseRootfs } from '../../node-agent/runtime/docker/pause-image.js';
import { buildTar, tarHeader } from '../../node-agent/runtime/docker/tar.js';
import { frame, FrameParser } from '../../node-agent/runtime/docker/stream-frames.js';

describe('pause ELF', () => {
  test.each([
    ['x64', 62],
    ['arm64', 183],
  ] as const)('%s header and program header', (arch, machine) => {
    const elf = buildPauseElf(arch);
    expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect([elf[4], elf[5], elf[6]]).toEqual([2, 1, 1]); // 64-bit, little endian, version 1
    expect(elf.readUInt16LE(16)).toBe(2); // ET_EXEC
    expect(elf.readUInt16LE(18)).toBe(machine);
    const entry = elf.readBigUInt64LE(24);
    expect(entry).toBe(0x400000n + 120n); // code right after both headers
    expect(elf.readBigUInt64LE(32)).toBe(64n);
    expect(elf.readUInt16LE(56)).toBe(1);
    // PT_LOAD, R+X, whole file at 0x400000.
    expect(elf.readUInt32LE(64)).toBe(1);
    expect(elf.readUInt32LE(68)).toBe(5);
    expect(elf.readBigUInt64LE(64 + 16)).toBe(0x400000n);
    expect(elf.readBigUInt64LE(64 + 32)).toBe(BigInt(elf.length));
    // The sigaction struct at the end names a handler inside the segment.
    const handler = elf.readBigUInt64LE(elf.length - 32);
    expect(handler > entry && handler < 0x400000n + BigInt(elf.length)).toBe(true);
    expect(elf.length).toBeLessThan(512);
  });

  const onX64 = process.arch === 'x64' && process.platform === 'linux' ? test.each(['SIGTERM', 'SIGINT'] as const) : test.skip.each(['SIGTERM', 'SIGINT'] as const);
  onX64('runs, sleeps, and exits 0 on %s', async (signal) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pause-'));
    try {
      const file = path.join(dir, 'pause');
      writeFileSync(file, buildPauseElf('x64'));
      chmodSync(file, 0o755);
      const child = spawn(file, [], { stdio: 'ignore' });
      const exited = new Promise<{ code: number | null; sig: string | null }>((resolve) => child.on('exit', (code, sig) => resolve({ code, sig })));
      const early = await Promise.race([exited.then(() => 'exited'), new Promise((r) => setTimeout(() => r('running'), 300))]);
      expect(early).toBe('running');
      child.kill(signal);
      expect(await exited).toEqual({ code: 0, sig: null });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('tar', () => {
  test('ustar header fields and checksum', () => {
    const h = tarHeader({ name: 'pause', data: Buffer.from('abc'), mode: 0o755 });
    expect(h.length).toBe(512);
    expect(h.subarray(0, 5).toString()).toBe('pause');
    expect(h.subarray(100, 107).toString()).toBe('0000755');
    expect(h.subarray(124, 135).toString()).toBe('00000000003');
    expect(String.fromCharCode(h[156])).toBe('0');
    expect(h.subarray(257, 263).toString('latin1')).toBe('ustar\0');
    const stored = parseInt(h.subarray(148, 154).toString(), 8);
    const copy = Buffer.from(h);
    copy.write('        ', 148, 8, 'ascii');
    expect(stored).toBe(copy.reduce((a, b) => a + b, 0));
  });

  test('archive layout: header, padded data, two zero blocks; directories', () => {
    const t = buildTar([{ name: 'etc', mode: 0o755 }, { name: 'etc/x', data: Buffer.alloc(513, 1), mode: 0o644 }]);
    expect(t.length).toBe(512 + 512 + 1024 + 1024);
    expect(t.subarray(0, 4).toString()).toBe('etc/');
    expect(String.fromCharCode(t[156])).toBe('5');
    expect(t.subarray(t.length - 1024).every((b) => b === 0)).toBe(true);
  });

  test('the pause root file system is a gzipped tar holding /pause', () => {
    const tar = gunzipSync(pauseRootfs('x64'));
    expect(tar.subarray(0, 5).toString()).toBe('pause');
    expect(tar.subarray(512, 516).toString('latin1')).toBe('\x7fELF');
  });
});

describe('docker stream frames', () => {
  test('frames split across chunks are reassembled per stream', () => {
    const got: string[] = [];
    const p = new FrameParser((type, payload) => got.push(`${type}:${payload.toString()}`));
    const data = Buffer.concat([frame(1, Buffer.from('hello ')), frame(2, Buffer.from('oops')), frame(1, Buffer.from('world'))]);
    for (let i = 0; i < data.length; i += 5) p.push(data.subarray(i, i + 5));
    expect(got).toEqual(['1:hello ', '2:oops', '1:world']);
  });
});
