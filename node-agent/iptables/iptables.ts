// The one place the agent runs iptables. Every writer owns chains with its own prefix and
// replaces them whole through iptables-restore --noflush (a chain declared in the input is
// flushed, others are left alone), so it never touches Docker's or anybody else's rules.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type Table = 'filter' | 'nat' | 'mangle' | 'raw';

export class Iptables {
  constructor(private readonly binary = 'iptables') {}

  /**
   * Applies one table's rules: `chains` are declared (created or flushed) and `rules` are
   * `-A CHAIN ...` lines. Chains not declared keep their rules. Atomic per table.
   */
  async restore(table: Table, chains: string[], rules: string[]): Promise<void> {
    const text = [`*${table}`, ...chains.map((c) => `:${c} - [0:0]`), ...rules, 'COMMIT', ''].join('\n');
    await new Promise<void>((resolve, reject) => {
      const child = execFile(`${this.binary}-restore`, ['--noflush', '--wait'], (err, _stdout, stderr) => {
        if (err) reject(new Error(`${this.binary}-restore (${table}) failed: ${stderr.trim() || err.message}`));
        else resolve();
      });
      child.stdin?.end(text);
    });
  }

  /** The names of the table's chains that start with `prefix`. */
  async chains(table: Table, prefix: string): Promise<string[]> {
    const { stdout } = await run(`${this.binary}-save`, ['-t', table], { maxBuffer: 64 * 1024 * 1024 });
    return stdout
      .split('\n')
      .filter((l) => l.startsWith(':'))
      .map((l) => l.slice(1).split(' ')[0])
      .filter((c) => c.startsWith(prefix));
  }

  /** Removes chains (flushes first, since a chain with rules or references cannot be deleted). */
  async deleteChains(table: Table, chains: string[]): Promise<void> {
    if (!chains.length) return;
    const text = [`*${table}`, ...chains.map((c) => `:${c} - [0:0]`), ...chains.map((c) => `-X ${c}`), 'COMMIT', ''].join('\n');
    await new Promise<void>((resolve, reject) => {
      const child = execFile(`${this.binary}-restore`, ['--noflush', '--wait'], (err, _stdout, stderr) => (err ? reject(new Error(stderr.trim() || err.message)) : resolve()));
      child.stdin?.end(text);
    });
  }

  /**
   * Makes sure `from` jumps to `to` with `match` (e.g. ['-m', 'comment', ...]); inserted first
   * when `first`, else appended. Idempotent: checks with -C before adding.
   */
  async ensureJump(table: Table, from: string, to: string, match: string[] = [], first = true): Promise<void> {
    const spec = [...match, '-j', to];
    try {
      await run(this.binary, ['-w', '-t', table, '-C', from, ...spec]);
      return;
    } catch {
      // Not there yet.
    }
    await run(this.binary, ['-w', '-t', table, first ? '-I' : '-A', from, ...(first ? ['1'] : []), ...spec]);
  }

  /** Removes every copy of a jump rule (used when the agent stops for good or a test cleans up). */
  async removeJump(table: Table, from: string, to: string, match: string[] = []): Promise<void> {
    const spec = [...match, '-j', to];
    for (;;) {
      try {
        await run(this.binary, ['-w', '-t', table, '-D', from, ...spec]);
      } catch {
        return;
      }
    }
  }
}
