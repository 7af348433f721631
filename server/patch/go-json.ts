// Go's wording for JSON values and JSON errors. Upstream's patch errors print decoded values with
// fmt's %v and report bad bodies with encoding/json's messages; clients and users see that text,
// so the patch engines reproduce it here.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export function isJsonObject(v: unknown): v is Record<string, JsonValue> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** Sets a key without ever touching the prototype (a patch may carry a "__proto__" key). */
export function setKey(o: Record<string, JsonValue>, k: string, v: JsonValue): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else o[k] = v;
}

/** Go's kind of a value decoded into interface{}: what reflect.TypeOf prints. */
export function goTypeName(v: unknown): string {
  if (v === null || v === undefined) return '%!s(<nil>)';
  if (Array.isArray(v)) return '[]interface {}';
  switch (typeof v) {
    case 'string': return 'string';
    case 'boolean': return 'bool';
    case 'number': return Number.isInteger(v) ? 'int64' : 'float64';
    default: return 'map[string]interface {}';
  }
}

/** Go's %v of a float64: shortest digits, exponent form outside 1e-4 <= |x| < 1e6 (as fmt does). */
function goFloat(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN';
  const [mantissa, exp] = n.toExponential().split('e');
  const e = Number(exp);
  if (e < -4 || e >= 6) {
    const sign = e < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  return String(n);
}

/** Go's %v of a value decoded from JSON into interface{}: `map[a:1 b:[x y]]`, keys sorted. */
export function goValue(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goValue).join(' ')}]`;
  switch (typeof v) {
    case 'string': return v;
    case 'boolean': return String(v);
    // Integers arrive as int64 upstream (the decoder preserves them), so they print plainly.
    case 'number': return Number.isInteger(v) ? String(v) : goFloat(v);
    default: {
      const o = v as Record<string, unknown>;
      return `map[${Object.keys(o).sort().map((k) => `${k}:${goValue(o[k])}`).join(' ')}]`;
    }
  }
}

/** Go's %s verb, which only strings satisfy; anything else prints as `%!s(type=value)`. */
export function goStringVerb(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '%!s(<nil>)';
  if (typeof v === 'number' || typeof v === 'boolean') return `%!s(${goTypeName(v)}=${goValue(v)})`;
  if (Array.isArray(v)) return `[${v.map(goStringVerb).join(' ')}]`;
  const o = v as Record<string, unknown>;
  return `map[${Object.keys(o).sort().map((k) => `${k}:${goStringVerb(o[k])}`).join(' ')}]`;
}

/** encoding/json's name for the kind of JSON value found where another was expected. */
export function jsonKindName(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string': return 'string';
    case 'number': return 'number';
    case 'boolean': return 'bool';
    default: return 'object';
  }
}

/** `json: cannot unmarshal array into Go value of type map[string]interface {}` */
export function unmarshalTypeError(v: unknown, goType: string, structField?: string): string {
  return structField
    ? `json: cannot unmarshal ${jsonKindName(v)} into Go struct field ${structField} of type ${goType}`
    : `json: cannot unmarshal ${jsonKindName(v)} into Go value of type ${goType}`;
}

export class JsonSyntaxError extends Error {}

/** Parses JSON text, failing with encoding/json's error message for malformed input. */
export function parseJson(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    throw new JsonSyntaxError(goSyntaxError(text));
  }
}

function quoteChar(c: string): string {
  if (c === "'") return `'\\''`;
  if (c === '"') return `'"'`;
  const quoted = JSON.stringify(c).slice(1, -1);
  return `'${quoted}'`;
}

const WS = new Set([' ', '\t', '\r', '\n']);

/**
 * Scans `text` the way encoding/json's scanner does and returns its message for the first error
 * (only called on text JSON.parse rejected, so there is one).
 */
export function goSyntaxError(text: string): string {
  let i = 0;
  const bad = (context: string) => `invalid character ${quoteChar(text[i])} ${context}`;
  class Fail extends Error {}
  const fail = (message: string): never => { throw new Fail(message); };
  const eof = () => i >= text.length;
  const skipWs = () => { while (!eof() && WS.has(text[i])) i++; };
  const need = (context: string) => { if (eof()) fail('unexpected end of JSON input'); return context; };

  const literal = (word: string) => {
    for (let k = 1; k < word.length; k++) {
      i++;
      need('');
      if (text[i] !== word[k]) fail(bad(`in literal ${word} (expecting ${quoteChar(word[k])})`));
    }
    i++;
  };
  const digits = () => { while (!eof() && text[i] >= '0' && text[i] <= '9') i++; };
  const number = () => {
    if (text[i] === '-') {
      i++;
      need('');
      if (!(text[i] >= '0' && text[i] <= '9')) fail(bad('in numeric literal'));
    }
    if (text[i] === '0') i++;
    else digits();
    if (!eof() && text[i] === '.') {
      i++;
      need('');
      if (!(text[i] >= '0' && text[i] <= '9')) fail(bad('after decimal point in numeric literal'));
      digits();
    }
    if (!eof() && (text[i] === 'e' || text[i] === 'E')) {
      i++;
      need('');
      if (text[i] === '+' || text[i] === '-') { i++; need(''); }
      if (!(text[i] >= '0' && text[i] <= '9')) fail(bad('in exponent of numeric literal'));
      digits();
    }
  };
  const string = () => {
    i++;
    for (;;) {
      need('');
      const c = text[i];
      if (c === '"') { i++; return; }
      if (c === '\\') {
        i++;
        need('');
        if ('"\\/bfnrt'.includes(text[i])) { i++; continue; }
        if (text[i] !== 'u') fail(bad('in string escape code'));
        i++;
        for (let k = 0; k < 4; k++, i++) {
          need('');
          if (!/[0-9a-fA-F]/.test(text[i])) fail(bad('in \\u hexadecimal character escape'));
        }
        continue;
      }
      if (c < ' ') fail(bad('in string literal'));
      i++;
    }
  };
  const value = (): void => {
    skipWs();
    need('');
    const c = text[i];
    if (c === '{') {
      i++;
      skipWs();
      need('');
      if (text[i] === '}') { i++; return; }
      for (;;) {
        skipWs();
        need('');
        if (text[i] !== '"') fail(bad('looking for beginning of object key string'));
        string();
        skipWs();
        need('');
        if (text[i] !== ':') fail(bad('after object key'));
        i++;
        value();
        skipWs();
        need('');
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return; }
        fail(bad('after object key:value pair'));
      }
    }
    if (c === '[') {
      i++;
      skipWs();
      need('');
      if (text[i] === ']') { i++; return; }
      for (;;) {
        value();
        skipWs();
        need('');
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return; }
        fail(bad('after array element'));
      }
    }
    if (c === '"') return string();
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    fail(bad('looking for beginning of value'));
  };

  try {
    value();
    skipWs();
    if (!eof()) fail(bad('after top-level value'));
  } catch (e) {
    if (e instanceof Fail) return e.message;
    throw e;
  }
  // JSON.parse and Go disagree only on exotic input (e.g. lone surrogates); say something sensible.
  return 'invalid JSON document';
}
