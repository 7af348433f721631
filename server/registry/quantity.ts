// resource.Quantity as far as the registry needs it: recognising the serialized form, and a
// numeric value to compare, sum and check signs with. Values are approximate (doubles); that is
// enough for validation and QoS, which only compare.
const QUANTITY = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;

const SUFFIXES: Record<string, number> = {
  '': 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

export const QUANTITY_FORMAT_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/** The numeric value of a quantity, or undefined when it does not parse (as resource.ParseQuantity). */
export function parseQuantity(q: string | number | undefined): number | undefined {
  if (q === undefined) return undefined;
  if (typeof q === 'number') return Number.isFinite(q) ? q : undefined;
  const m = QUANTITY.exec(q.trim());
  if (!m) return undefined;
  const [, num, suffix] = m;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(num)) return undefined;
  const base = Number(num);
  if (suffix in SUFFIXES) return base * SUFFIXES[suffix];
  const exp = /^[eE]([-+]?\d+)$/.exec(suffix);
  if (exp) return base * 10 ** Number(exp[1]);
  return undefined;
}

export const quantityString = (q: string | number | undefined): string => (q === undefined ? '0' : String(q));

/** Quantity.Cmp: -1, 0 or 1 (unparseable values compare as 0). */
export function compareQuantity(a: string | number | undefined, b: string | number | undefined): number {
  const x = parseQuantity(a) ?? 0;
  const y = parseQuantity(b) ?? 0;
  const eps = Math.max(Math.abs(x), Math.abs(y)) * 1e-12;
  if (Math.abs(x - y) <= eps) return 0;
  return x < y ? -1 : 1;
}
