// Command-line options the benches share.

/** A `--name N` value: the default when absent, else a positive integer or a usage error. */
export function positiveIntOption(name: string, value: string | undefined, fallback: number, usage: string): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new Error(`--${name}: want a positive integer, got "${value}"\n${usage}`);
  return Number(value);
}
