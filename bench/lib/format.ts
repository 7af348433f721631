// How the benches print: lines to stdout, numbers that may be missing, PASS/MISS verdicts.
export const say = (line: string): void => void process.stdout.write(`${line}\n`);
export const fixed = (n: number | undefined, digits = 1): string => (n !== undefined && Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
export const verdict = (ok: boolean): string => (ok ? 'PASS' : 'MISS');
export const round = (n: number | undefined, d = 1): number | null => (n !== undefined && Number.isFinite(n) ? +n.toFixed(d) : null);
