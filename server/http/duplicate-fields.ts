// Finds duplicate object keys in a JSON text, with their paths, for strict field validation:
// JSON.parse keeps the last value silently, while upstream's strict decoder reports
// `duplicate field "data"`. A single pass over the text that only looks at keys.

/** Paths ("data", "spec.template.metadata.labels.app") of keys that occur twice in one object. */
export function duplicateFields(text: string): string[] {
  const out: string[] = [];
  const stack: { keys: Set<string> | null; path: string; isObject: boolean; index: number }[] = [];
  let i = 0;
  const n = text.length;
  let expectKey = false;
  let pendingKey: string | null = null;
  const childPath = (parent: { path: string; isObject: boolean; index: number }, key: string | null) =>
    parent.isObject ? (parent.path ? `${parent.path}.${key}` : key ?? '') : parent.path;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      let escaped = false;
      for (; j < n; j++) {
        const d = text.charCodeAt(j);
        if (d === 0x5c) j++, (escaped = true);
        else if (d === 0x22) break;
      }
      const top = stack[stack.length - 1];
      if (expectKey && top?.isObject) {
        const raw = text.slice(i + 1, j);
        const key = escaped ? (JSON.parse(`"${raw}"`) as string) : raw;
        top.keys ??= new Set();
        if (top.keys.has(key)) out.push(childPath(top, key));
        else top.keys.add(key);
        pendingKey = key;
        expectKey = false;
      }
      i = j + 1;
      continue;
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const parent = stack[stack.length - 1];
      const path = parent ? childPath(parent, pendingKey) : '';
      stack.push({ keys: null, path, isObject: c === 0x7b, index: 0 });
      expectKey = c === 0x7b;
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1]?.isObject ?? false;
    }
    i++;
  }
  return out;
}
