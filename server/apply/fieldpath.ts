// Field sets: which paths of an object a manager owns, as structured-merge-diff's fieldpath.Set,
// and their wire form FieldsV1 ({"f:spec": {"f:replicas": {}}, …}). A set is a trie keyed by the
// FieldsV1 path element strings themselves, so parsing and printing FieldsV1 need no translation.
import { childShape, isObject, itemElement, ItemError, resolve, rootShape, type SchemaRef, type Shape } from './schema.js';

/**
 * One node of a field-set trie. The path leading to a node is in the set when `member` is true;
 * nodes that are neither members nor lead to one are never kept. The set operations share
 * untouched sub-tries between their inputs and results, so a set must not be changed once it has
 * been handed to one of them: only `insert` into a set you have just built.
 */
export class FieldSet {
  member = false;
  children: Map<string, FieldSet> | undefined;

  static empty(): FieldSet {
    return new FieldSet();
  }

  /** A set of the given paths, each a list of path elements (`['f:spec', 'f:replicas']`). */
  static of(paths: readonly (readonly string[])[]): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  static fromFieldsV1(fields: unknown): FieldSet {
    return parseNode(fields, true);
  }

  insert(path: readonly string[]): this {
    let node: FieldSet = this;
    for (const el of path) node = node.ensure(el);
    if (node !== this) node.member = true;
    return this;
  }

  /** The child node for one path element, created when missing (builders only). */
  ensure(el: string): FieldSet {
    const children = (this.children ??= new Map());
    let c = children.get(el);
    if (!c) children.set(el, (c = new FieldSet()));
    return c;
  }

  has(path: readonly string[]): boolean {
    let node: FieldSet | undefined = this;
    for (const el of path) if (!(node = node.children?.get(el))) return false;
    return node !== this && node.member;
  }

  isEmpty(): boolean {
    return !this.member && !this.children?.size;
  }

  union(o: FieldSet): FieldSet {
    if (o.isEmpty()) return this;
    if (this.isEmpty()) return o;
    const out = new FieldSet();
    out.member = this.member || o.member;
    out.children = new Map(this.children);
    for (const [el, oc] of o.children ?? []) {
      const mine = out.children.get(el);
      out.children.set(el, mine ? mine.union(oc) : oc);
    }
    return out;
  }

  /** The paths of this set that are not in `o` (exactly: children of o's members stay). */
  difference(o: FieldSet): FieldSet {
    if (o.isEmpty() || this.isEmpty()) return this;
    return this.subtract(o, false);
  }

  /** Like difference, but also drops everything below the paths that are members of `o`. */
  recursiveDifference(o: FieldSet): FieldSet {
    if (o.isEmpty() || this.isEmpty()) return this;
    return this.subtract(o, true);
  }

  private subtract(o: FieldSet, recursive: boolean): FieldSet {
    const member = this.member && !o.member;
    let changed = member !== this.member;
    let children: Map<string, FieldSet> | undefined;
    if (this.children && o.children) {
      for (const [el, c] of this.children) {
        const oc = o.children.get(el);
        if (!oc) continue;
        const d = recursive && oc.member ? undefined : c.subtract(oc, recursive);
        if (d === c) continue;
        children ??= new Map(this.children);
        if (d && !d.isEmpty()) children.set(el, d);
        else children.delete(el);
        changed = true;
      }
    }
    if (!changed) return this;
    const out = new FieldSet();
    out.member = member;
    out.children = children ?? this.children;
    return out;
  }

  intersection(o: FieldSet): FieldSet {
    const out = new FieldSet();
    out.member = this.member && o.member;
    if (this.children && o.children) {
      const [small, big] = this.children.size <= o.children.size ? [this.children, o.children] : [o.children, this.children];
      for (const [el, c] of small) {
        const oc = big.get(el);
        if (!oc) continue;
        const i = c.intersection(oc);
        if (!i.isEmpty()) out.ensureChildren().set(el, i);
      }
    }
    return out;
  }

  /** The children map, created when missing (builders only). */
  ensureChildren(): Map<string, FieldSet> {
    return (this.children ??= new Map());
  }

  equals(o: FieldSet): boolean {
    if (this === o) return true;
    if (this.member !== o.member || (this.children?.size ?? 0) !== (o.children?.size ?? 0)) return false;
    for (const [el, c] of this.children ?? []) {
      const oc = o.children!.get(el);
      if (!oc || !c.equals(oc)) return false;
    }
    return true;
  }

  /** The member paths in upstream's iteration order: a node's members first, then its children's. */
  paths(): string[][] {
    const out: string[][] = [];
    const walk = (node: FieldSet, prefix: string[]): void => {
      const els = sortedElements(node.children);
      for (const el of els) if (node.children!.get(el)!.member) out.push([...prefix, el]);
      for (const el of els) {
        const c = node.children!.get(el)!;
        if (c.children?.size) walk(c, [...prefix, el]);
      }
    };
    walk(this, []);
    return out;
  }

  /** The number of member paths. */
  size(): number {
    let n = this.member ? 1 : 0;
    for (const c of this.children?.values() ?? []) n += c.size();
    return n;
  }

  /** FieldsV1 as upstream prints it: "." for a member that has children, elements in order. */
  toFieldsV1(): Record<string, unknown> {
    return this.print(false);
  }

  private print(self: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (self && this.member && this.children?.size) out['.'] = {};
    for (const el of sortedElements(this.children)) out[el] = this.children!.get(el)!.print(true);
    return out;
  }
}

function parseNode(v: unknown, root: boolean): FieldSet {
  if (!isObject(v)) throw new Error(`FieldsV1: expected an object, got ${JSON.stringify(v) ?? 'undefined'}`);
  const node = new FieldSet();
  let any = false;
  for (const key of Object.keys(v)) {
    any = true;
    if (key === '.') {
      if (root) throw new Error('FieldsV1: "." at the top level');
      node.member = true;
      continue;
    }
    const child = parseNode(v[key], false);
    node.ensureChildren().set(canonicalElement(key), child);
  }
  // `"f:x": {}` is a leaf: x itself is in the set.
  if (!any && !root) node.member = true;
  return node;
}

/** A path element as upstream prints it; clients may send keys in another order or spacing. */
function canonicalElement(el: string): string {
  const colon = el.indexOf(':');
  const kind = el.slice(0, colon);
  const body = el.slice(colon + 1);
  switch (colon === 1 ? kind : '') {
    case 'f': return el;
    case 'i':
      if (!/^(0|[1-9][0-9]*)$/.test(body)) throw new Error(`FieldsV1: invalid index in ${JSON.stringify(el)}`);
      return el;
    case 'v': return `v:${JSON.stringify(JSON.parse(body))}`;
    case 'k': {
      const k = JSON.parse(body) as unknown;
      if (!isObject(k)) throw new Error(`FieldsV1: key ${JSON.stringify(el)} is not an object`);
      const canonical = `k:{${Object.keys(k).sort().map((n) => `${JSON.stringify(n)}:${JSON.stringify(k[n])}`).join(',')}}`;
      return canonical === el ? el : canonical;
    }
    default:
      throw new Error(`FieldsV1: unknown path element ${JSON.stringify(el)}`);
  }
}

/** Element order as structured-merge-diff's PathElement.Compare: fields, keys, values, indices. */
function sortedElements(children: Map<string, FieldSet> | undefined): string[] {
  if (!children?.size) return [];
  const els = [...children.keys()];
  let allFields = true;
  for (const el of els) if (el.charCodeAt(0) !== 0x66 /* f */) { allFields = false; break; }
  if (allFields) return els.sort(byCodeUnits);
  // Keys and values are compared decoded: decode each once.
  return els.map(decodeElement).sort(compareElements).map((d) => d.el);
}

const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const KIND_ORDER: Record<string, number> = { f: 0, k: 1, v: 2, i: 3 };

interface Decoded { el: string; rank: number; value: unknown }

// The same keys (container names, ports) are printed on every write of an object: decode them once.
const decoded = new Map<string, Decoded>();

function decodeElement(el: string): Decoded {
  let d = decoded.get(el);
  if (d) return d;
  const rank = KIND_ORDER[el[0]];
  const body = el.slice(2);
  d = { el, rank, value: rank === 0 ? body : rank === 3 ? Number(body) : JSON.parse(body) };
  if (decoded.size >= 10_000) decoded.clear();
  decoded.set(el, d);
  return d;
}

function compareElements(a: Decoded, b: Decoded): number {
  if (a.rank !== b.rank) return a.rank - b.rank;
  switch (a.rank) {
    case 0: return byCodeUnits(a.el, b.el);
    case 3: return (a.value as number) - (b.value as number);
    case 2: return compareValues(a.value, b.value);
    default: {
      const x = a.value as Record<string, unknown>, y = b.value as Record<string, unknown>;
      const xs = Object.keys(x), ys = Object.keys(y);
      if (xs.length !== ys.length) return xs.length - ys.length;
      for (let i = 0; i < xs.length; i++) {
        const c = byCodeUnits(xs[i], ys[i]) || compareValues(x[xs[i]], y[ys[i]]);
        if (c) return c;
      }
      return 0;
    }
  }
}

/** structured-merge-diff's value.Compare: numbers, strings, booleans, lists, maps, null. */
function compareValues(a: unknown, b: unknown): number {
  const rank = (v: unknown): number =>
    typeof v === 'number' ? 0 : typeof v === 'string' ? 1 : typeof v === 'boolean' ? 2 : Array.isArray(v) ? 3 : v === null ? 5 : 4;
  const ra = rank(a), rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 0) return (a as number) - (b as number);
  if (ra === 1) return byCodeUnits(a as string, b as string);
  if (ra === 2) return Number(a) - Number(b);
  return byCodeUnits(JSON.stringify(a), JSON.stringify(b));
}

/** A path as upstream prints it in conflicts: `.spec.containers[name="app"].image`. */
export function pathString(path: readonly string[]): string {
  let out = '';
  for (const el of path) {
    const body = el.slice(2);
    switch (el[0]) {
      case 'f': out += `.${body}`; break;
      case 'i': out += `[${body}]`; break;
      case 'v': out += `[=${valueString(JSON.parse(body))}]`; break;
      default: {
        const k = JSON.parse(body) as Record<string, unknown>;
        out += `[${Object.keys(k).map((n) => `${n}=${valueString(k[n])}`).join(',')}]`;
      }
    }
  }
  return out;
}

/** structured-merge-diff's value.ToString: strings quoted, everything else as Go prints it. */
function valueString(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(valueString).join(',')}]`;
  if (isObject(v)) return `{${Object.keys(v).map((k) => `${k}=${valueString(v[k])}`).join(',')}}`;
  return String(v);
}

/** A field set upstream's typed conversion rejects (duplicate or key-less list items). */
export class FieldSetError extends Error {}

/**
 * The paths an object sets (upstream's TypedValue.ToFieldSet, what an applier owns): scalars and
 * atomic parts as leaves, list items by key or value, map keys; a struct is not itself a member
 * unless it is empty or null.
 */
export function fieldSetOf(obj: unknown, schema: SchemaRef | Shape): FieldSet {
  const shape = 'kind' in schema && !('group' in schema) ? (schema as Shape) : rootShape(schema as SchemaRef);
  const path: string[] = [];
  return collect(obj, shape, path) ?? new FieldSet();
}

function collect(v: unknown, declared: Shape, path: string[]): FieldSet | undefined {
  const shape = resolve(declared, v);
  switch (shape.kind) {
    case 'ignored': return undefined;
    case 'struct':
    case 'map': {
      if (v === null) return undefined;
      if (!isObject(v)) return leaf();
      let node: FieldSet | undefined;
      for (const k of Object.keys(v)) {
        const c = childShape(shape, k);
        if (c.shape.kind === 'ignored') continue;
        const val = v[k];
        path.push(`f:${k}`);
        let child = collect(val, c.shape, path);
        path.pop();
        if (val === null || !c.declared || (isObject(val) && isEmptyObject(val))) (child ??= new FieldSet()).member = true;
        if (child) (node ??= new FieldSet()).ensureChildren().set(`f:${k}`, child);
      }
      return node;
    }
    case 'assoc':
    case 'set': {
      if (v === null) return undefined;
      if (!Array.isArray(v)) return leaf();
      let node: FieldSet | undefined;
      for (let i = 0; i < v.length; i++) {
        const item: unknown = v[i];
        let el: string;
        try {
          el = itemElement(shape, item);
        } catch (e) {
          if (e instanceof ItemError) throw new FieldSetError(`${pathString(path)}: element ${i}: ${e.message}`);
          throw e;
        }
        if (node?.children?.has(el)) throw new FieldSetError(`${pathString(path)}: duplicate entries for key ${pathString([el])}`);
        path.push(el);
        const child = collect(item, shape.items, path) ?? new FieldSet();
        path.pop();
        child.member = true;
        (node ??= new FieldSet()).ensureChildren().set(el, child);
      }
      return node;
    }
    default:
      return leaf();
  }
}

function leaf(): FieldSet {
  const s = new FieldSet();
  s.member = true;
  return s;
}

function isEmptyObject(o: Record<string, unknown>): boolean {
  for (const k in o) if (Object.prototype.hasOwnProperty.call(o, k)) return false;
  return true;
}

