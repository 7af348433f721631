// The fuzzer's request generators (fast-check arbitraries). Most start from a valid request and
// mutate it, so that many get past decoding into validation, admission, patching and storage.
import fc from 'fast-check';
import { collectionPath, fixtureName, itemPath, KINDS, NS, type FuzzKind } from './fuzz-kinds.js';
import { encodeMessage, encodeObject, envelope, ProtoWriter, protoMessageName } from './fuzz-protobuf.js';

/** A body too large to keep in every generated request: built when the request is sent. */
export interface LazyBody { repeat: string; bytes: number; chunked: boolean }

export interface FuzzRequest {
  family: string;
  method: string;
  /** Path and query, already encoded as they go on the wire. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer | LazyBody;
  /** Raw bytes for a socket of its own (malformed HTTP); `close` ends the socket right after them. */
  raw?: { bytes: Buffer; close: boolean };
  /** A watch: read the first events for a moment, then hang up. */
  watch?: boolean;
}

const JSON_CT = 'application/json';
const YAML_CT = 'application/yaml';
const PROTO_CT = 'application/vnd.kubernetes.protobuf';
const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];

const kindArb = fc.constantFrom(...KINDS);

// ---------------------------------------------------------------- values and mutations

const oddStrings = [
  '', ' ', 'x', 'X', 'a'.repeat(64), 'b'.repeat(254), 'c'.repeat(300), 'd'.repeat(70_000), 'ünïcödé', '日本語', '😀', '\u0000', '\uffff', '\ud800',
  '..', '.', '-', 'a..b', 'a/b', 'a%2Fb', '%', '$patch', 'replace', 'delete', 'merge', '$retainKeys', 'null', 'true', '1e400', '-1', '0x10',
  '10.0.0.1', '::1', '1.2.3.4/33', '*', '*/*', '${x}', '{{x}}', '\\', '"', '\'', '<script>', 'a=b', 'a,b', '!a', 'metadata.name', 'kubernetes.io/x',
  '2026-13-45T99:99:99Z', '1Gi', '1.5.5Mi', '-100m', '1e3', 'Always', 'Never', 'IfNotPresent', 'TCP', 'SCTP', 'ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName', 'None',
];
const oddNumbers = [0, -1, 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, 2 ** 63, -(2 ** 63), 1e308, -1e308, 0.5, 1e-300, 65535, 65536, 3.14159];

const leafArb: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.constantFrom(...oddStrings), weight: 4 },
  { arbitrary: fc.constantFrom(...oddNumbers), weight: 2 },
  { arbitrary: fc.string({ maxLength: 20 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 10 }), weight: 1 },
  { arbitrary: fc.integer(), weight: 1 },
  { arbitrary: fc.double(), weight: 1 },
  { arbitrary: fc.boolean(), weight: 1 },
  { arbitrary: fc.constant(null), weight: 2 },
  { arbitrary: fc.constantFrom([], {}, [null], [{}], { $patch: 'delete' }, { $patch: 'replace' }, ['a', 'a'], [{ name: 'c' }, { name: 'c' }]), weight: 2 },
);
const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: leafArb, weight: 5 },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 2 },
  { arbitrary: fc.dictionary(fc.constantFrom('name', 'key', 'value', 'port', 'image', 'containers', 'labels', 'spec', 'items', 'x'), leafArb, { maxKeys: 4 }), weight: 1 },
);

type Json = unknown;
interface Mutation { at: number; action: 'replace' | 'delete' | 'add' | 'wrap' | 'duplicateItem'; key: string; value: unknown }

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  action: fc.constantFrom('replace', 'replace', 'replace', 'delete', 'add', 'wrap', 'duplicateItem') as fc.Arbitrary<Mutation['action']>,
  key: fc.constantFrom('unknownField', 'name', 'namespace', 'labels', 'finalizers', 'ownerReferences', 'resourceVersion', 'uid', 'generateName', 'managedFields', '$patch', 'status', 'items', 'x-y', '', 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'prototype'),
  value: valueArb,
});

function paths(v: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...prefix, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out);
  return out;
}

function mutate(doc: Json, m: Mutation): Json {
  const all = paths(doc);
  const path = all[m.at % all.length];
  if (path.length === 0) {
    if (m.action === 'wrap') return [doc];
    if (m.action === 'replace' || !doc || typeof doc !== 'object') return m.value;
  }
  const root = structuredClone(doc) as Record<string | number, unknown>;
  let parent: Record<string | number, unknown> = root;
  for (const p of path.slice(0, -1)) parent = parent[p] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  const target = path.length ? parent[last] : root;
  switch (m.action) {
    case 'replace': parent[last] = m.value; break;
    case 'delete': if (Array.isArray(parent)) parent.splice(Number(last), 1); else delete parent[last]; break;
    case 'wrap': parent[last] = Array.isArray(target) ? { items: target } : [target]; break;
    case 'add':
      // defineProperty makes even `__proto__` an own key, so it reaches the wire as JSON.
      if (target && typeof target === 'object' && !Array.isArray(target)) Object.defineProperty(target, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
      else if (Array.isArray(target)) target.push(m.value);
      else parent[last] = m.value;
      break;
    case 'duplicateItem':
      if (Array.isArray(target) && target.length) target.push(structuredClone(target[0]));
      else if (Array.isArray(parent)) parent.push(structuredClone(target));
      else parent[last] = m.value;
      break;
  }
  return root;
}

const mutatedObject = (k: FuzzKind, name: string, maxMutations = 4) =>
  fc.array(mutationArb, { maxLength: maxMutations }).map((ms) => ms.reduce<Json>((d, m) => mutate(d, m), k.template(name)));

// ---------------------------------------------------------------- names, paths and query strings

const oddNameArb = fc.oneof(
  fc.constantFrom('fx', 'FX', 'Fx', 'a.b', 'a..b', '..', '.', '-a', 'a-', 'a_b', 'x'.repeat(63), 'x'.repeat(64), 'x'.repeat(253), 'x'.repeat(254), 'y'.repeat(5000), encodeURIComponent('ünï'), encodeURIComponent('😀'), 'a%20b', 'constructor', '__proto__', 'toString', '%2e%2e', '%2F', 'a%2Fb', '%ff', '%fe%ff', '%00', '%zz', '%', 'a%', '%c3%28', '%e2%82', '%f0%9f%98%80', 'status', 'scale', 'watch', 'namespaces', 'default', 'kube-system'),
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
  fc.string({ unit: 'grapheme', maxLength: 12 }).map(encodeURIComponent),
  fc.stringMatching(/^[a-z0-9]([-a-z0-9.]{0,20}[a-z0-9])?$/),
  fc.uint8Array({ maxLength: 12 }).map((b) => [...b].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('')),
);

const rvArb = fc.oneof(
  fc.constantFrom('', '0', '1', '-1', 'abc', '999999999999999999999', '18446744073709551616', '1.5', ' 1', '1e3', '0x1', '00001', '9007199254740993', '%00'),
  fc.nat().map(String),
  fc.bigInt({ min: 0n, max: 2n ** 70n }).map(String),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
);

const continueArb = fc.oneof(
  fc.base64String({ maxLength: 80 }),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.record({ v: fc.constantFrom('meta.k8s.io/v1', 'v2', ''), rv: fc.oneof(fc.integer(), fc.constant(1e308), fc.string()), start: fc.oneof(fc.string(), fc.constant('\u0000'), fc.integer(), fc.constant('/registry/configmaps/fuzz/fx\u0000')) })
    .map((t) => encodeURIComponent(Buffer.from(JSON.stringify(t)).toString('base64url'))),
  fc.tuple(fc.base64String({ minLength: 8, maxLength: 80 }), fc.nat()).map(([s, n]) => s.slice(0, n % (s.length + 1))),
  fc.constantFrom('eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MSwic3RhcnQiOiJhXHUwMDAwIn0', 'eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6OTk5OTk5OTk5OTksInN0YXJ0IjoiXHUwMDAwIn0', '!!!', '%ff', '='),
);

const labelSelectorArb = fc.oneof(
  fc.constantFrom('app=fuzz', 'app in (fuzz,x)', 'app notin (a)', '!app', 'app', 'app!=x', 'app==fuzz', 'tier>1', 'tier<2', 'a.b/c=d', 'a=b,c!=d', '', ',', 'app=', '=x', 'app in ()', 'app in (', '(', ')', 'app in (a,b', '!', '!!app', 'app=a=b',
    'x'.repeat(400) + '=a', 'a=' + 'v'.repeat(100), 'a in (' + Array.from({ length: 2000 }, (_, i) => `v${i}`).join(',') + ')', Array.from({ length: 500 }, (_, i) => `k${i}=v`).join(','), 'app=ünï', 'APP=X', 'a/b/c=d', '-a=b', 'a b=c', 'app in (a) , b', 'tier>a', 'tier<1.5', 'app exists'),
  fc.string({ maxLength: 40 }),
  fc.array(fc.tuple(fc.constantFrom('app', 'tier', 'a.b/c', 'x_y', 'K', ''), fc.constantFrom('=', '==', '!=', ' in ', ' notin ', '>', '<', '', '!'), fc.constantFrom('fuzz', '(fuzz)', '(a,b)', '1', '', 'ü', '(')), { maxLength: 5 })
    .map((terms) => terms.map(([k, op, v]) => (op === '!' ? `!${k}` : `${k}${op}${v}`)).join(',')),
).map(encodeURIComponent);

const fieldSelectorArb = fc.oneof(
  fc.constantFrom('metadata.name=fx', 'metadata.namespace=fuzz', 'metadata.name!=fx', 'metadata.name==fx', 'spec.nodeName=', 'status.phase=Running', 'spec.unknown=x', 'involvedObject.name=fx,involvedObject.kind=Pod', 'type=Opaque', 'spec.schedulerName=default-scheduler',
    '', ',', '=', 'metadata.name', 'metadata.name=a=b', 'metadata.name=a\\,b', 'metadata.name=\\', 'metadata.name in (a)', 'x'.repeat(1000) + '=1', 'metadata.name=' + 'n'.repeat(10_000), Array.from({ length: 300 }, () => 'metadata.name=fx').join(','), 'metadata.labels=x', 'status.podIP=10.0.0.1'),
  fc.string({ maxLength: 40 }),
  fc.array(fc.tuple(fc.constantFrom('metadata.name', 'metadata.namespace', 'spec.nodeName', 'status.phase', 'x', '', 'metadata.uid'), fc.constantFrom('=', '==', '!=', '', '~'), fc.string({ maxLength: 6 })), { maxLength: 4 })
    .map((terms) => terms.map(([k, op, v]) => `${k}${op}${v}`).join(',')),
).map(encodeURIComponent);

const junk = fc.oneof(fc.constantFrom('', 'true', 'false', '1', '0', '-1', 'All', 'all', 'None', 'Strict', 'Warn', 'Ignore', 'strict', 'x', '99999999999999999999', '1.5', '%00', '%ff'), fc.string({ maxLength: 10 }).map(encodeURIComponent));

type QueryParam = [string, string];
const queryParamArb: fc.Arbitrary<QueryParam> = fc.oneof(
  fc.tuple(fc.constant('resourceVersion'), rvArb),
  fc.tuple(fc.constant('resourceVersionMatch'), fc.oneof(fc.constantFrom('NotOlderThan', 'Exact', 'exact', 'Bogus', ''), junk)),
  fc.tuple(fc.constant('limit'), fc.oneof(fc.constantFrom('0', '1', '-1', '2', '500', '99999999999', '1e3', 'x', ''), fc.integer().map(String))),
  fc.tuple(fc.constant('continue'), continueArb),
  fc.tuple(fc.constant('timeoutSeconds'), fc.oneof(fc.constantFrom('0', '1', '-1', '1.5', 'x', '99999999999999999999', ''), fc.integer({ min: -5, max: 2 }).map(String))),
  fc.tuple(fc.constant('labelSelector'), labelSelectorArb),
  fc.tuple(fc.constant('fieldSelector'), fieldSelectorArb),
  fc.tuple(fc.constantFrom('dryRun', 'fieldValidation', 'fieldManager', 'force', 'pretty', 'allowWatchBookmarks', 'sendInitialEvents', 'watch', 'includeObject', 'propagationPolicy', 'gracePeriodSeconds', 'orphanDependents', 'container', 'tailLines', 'follow', 'exact', 'export', 'x'), junk),
  fc.tuple(fc.constant('fieldManager'), fc.constantFrom('m'.repeat(129), 'm'.repeat(128), '%00', 'kubectl', encodeURIComponent('ünï'), '')),
);

const queryArb = fc.array(queryParamArb, { maxLength: 4 });
const toQuery = (q: QueryParam[]) => (q.length ? `?${q.map(([k, v]) => `${k}=${v}`).join('&')}` : '');

/** Params that turn a request into a quick watch: a timeout so the server ends it too. */
const watchParams: QueryParam[] = [['watch', 'true'], ['timeoutSeconds', '1']];
const isWatch = (method: string, q: QueryParam[]) => method === 'GET' && q.some(([k, v]) => k === 'watch' && (v === 'true' || v === '1'));

// ---------------------------------------------------------------- families

const json = (v: unknown) => Buffer.from(JSON.stringify(v) ?? 'undefined');
const safeMethodFor = (path: string, method: string) => !(method === 'DELETE' && /^\/api\/v1\/namespaces(\/fuzz)?\/?$/.test(path.split('?')[0]));

/** Creates and updates with mutated objects, in JSON, YAML or protobuf. */
const objectFamily = fc.record({
  kind: kindArb,
  verb: fc.constantFrom('POST', 'POST', 'PUT'),
  name: fc.oneof(fc.constant(undefined), fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/), oddNameArb),
  encoding: fc.constantFrom('json', 'json', 'json', 'yaml', 'proto'),
  mutations: fc.integer({ min: 0, max: 5 }),
  seed: fc.array(mutationArb, { maxLength: 5 }),
  query: queryArb,
}).map(({ kind, verb, name, encoding, mutations, seed, query }): FuzzRequest => {
  const objName = name ?? (verb === 'PUT' ? fixtureName(kind) : `f${Math.abs(seed.length * 7919 + mutations * 104729).toString(36)}`);
  let obj = kind.template(decodeSafe(objName));
  for (const m of seed.slice(0, mutations)) obj = mutate(obj, m) as Record<string, unknown>;
  const path = verb === 'PUT' ? itemPath(kind, name ?? fixtureName(kind)) : collectionPath(kind);
  const body = encoding === 'json' ? json(obj) : encoding === 'yaml' ? Buffer.from(toYaml(obj)) : encodeObject(obj && typeof obj === 'object' && !Array.isArray(obj) ? obj : {}, kind.apiVersion, kind.kind);
  return { family: `object-${encoding}`, method: verb, path: path + toQuery(query), headers: { 'content-type': encoding === 'json' ? JSON_CT : encoding === 'yaml' ? YAML_CT : PROTO_CT }, body };
});

function decodeSafe(s: string): string {
  try { return decodeURIComponent(s); } catch { return s; }
}

/** A plain YAML rendering (flow style is valid YAML and keeps this generator small). */
function toYaml(v: unknown, indent = ''): string {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const entries = Object.entries(v);
    if (!entries.length) return '{}';
    return entries.map(([k, x]) => (x && typeof x === 'object' && Object.keys(x).length ? `${indent}${JSON.stringify(k)}:\n${toYaml(x, `${indent}  `)}` : `${indent}${JSON.stringify(k)}: ${JSON.stringify(x)}`)).join('\n');
  }
  if (Array.isArray(v)) return v.length ? v.map((x) => `${indent}- ${JSON.stringify(x)}`).join('\n') : `${indent}[]`;
  return `${indent}${JSON.stringify(v)}`;
}

/** Nesting depths around the server's limit (1000) and far beyond upstream's (10000). */
const depthArb = fc.oneof(fc.integer({ min: 50, max: 1000 }), fc.integer({ min: 990, max: 1010 }), fc.integer({ min: 1000, max: 120_000 }));

/** Broken JSON: truncated, deeply nested, invalid UTF-8, odd tokens, random bytes. */
const malformedJson = fc.oneof(
  fc.tuple(kindArb, fc.nat()).map(([k, n]) => { const b = json(k.template('trunc')); return b.subarray(0, n % b.length); }),
  fc.tuple(depthArb, fc.constantFrom('[', '{"a":', '{"metadata":', '{"data":{"x":')).map(([depth, open]) => Buffer.from(open.repeat(depth))),
  fc.tuple(depthArb, fc.constantFrom(['[', ']'], ['{"a":', '}'], ['{"metadata":', '}'])).map(([depth, [open, close]]) => Buffer.from(`${open.repeat(depth)}1${close.repeat(depth)}`)),
  fc.tuple(kindArb, depthArb).map(([k, depth]) => Buffer.from(JSON.stringify({ ...k.template('deep'), spec: undefined }).replace(/}$/, `,"spec":${'{"x":'.repeat(depth)}1${'}'.repeat(depth)}}`))),
  fc.tuple(kindArb, depthArb).map(([k, depth]) => Buffer.from(JSON.stringify(k.template('deeplabels')).replace('"labels":{', `"labels":{"z":${'['.repeat(depth)}${']'.repeat(depth)},`))),
  fc.tuple(kindArb, fc.uint8Array({ minLength: 1, maxLength: 4 }), fc.nat()).map(([k, bad, at]) => {
    const b = json(k.template('utf8'));
    const i = b.indexOf('"fuzz"') + 2 + (at % 2);
    return Buffer.concat([b.subarray(0, i), Buffer.from(bad.map((x) => x | 0x80)), b.subarray(i)]);
  }),
  fc.constantFrom('', ' ', 'null', 'true', '1', '"x"', '[]', '[{}]', '{}', '{"kind":1}', '{"apiVersion":[],"kind":{}}', '{"metadata":null}', '{"metadata":"x"}', '{"metadata":[]}',
    '{"metadata":{"name":1}}', '{"metadata":{"labels":[]}}', '{"metadata":{"labels":{"a":1}}}', '{"metadata":{"name":"a"},"data":[]}', 'NaN', '{"a":NaN}', '{"a":Infinity}', '{"a":1e999}', '{"a":-0}',
    '{"a":1,}', '[1,]', '// c\n{}', '{"a":"\\u"}', '{"a":"\\ud800"}', '{"a":"\\x41"}', '\ufeff{}', '{"a"}', '{"a":}', '{:1}', '{"a":1 "b":2}', '{"a":1}{"b":2}', '{"a":1}garbage', '"\\', '{"a":"\u0000"}',
    '{"metadata":{"name":"dup","name":"dup2"},"apiVersion":"v1","apiVersion":"v1","kind":"ConfigMap"}', '{"__proto__":{"polluted":1},"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"proto"}}',
    '{"constructor":{"prototype":{"x":1}},"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ctor"}}', '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"a":' + '9'.repeat(5000) + '}}').map((s) => Buffer.from(s)),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  fc.string({ unit: 'binary', maxLength: 100 }).map((s) => Buffer.from(s)),
  fc.jsonValue({ maxDepth: 4 }).map((v) => json(v)),
);

const malformedFamily = fc.record({ kind: kindArb, verb: fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE'), body: malformedJson, ct: fc.constantFrom(JSON_CT, JSON_CT, 'application/json; charset=utf-8', ...PATCH_TYPES) })
  .map(({ kind, verb, body, ct }): FuzzRequest => ({
    family: 'malformed-json', method: verb, path: verb === 'POST' ? collectionPath(kind) : itemPath(kind, fixtureName(kind)),
    headers: { 'content-type': verb === 'PATCH' ? ct : JSON_CT }, body,
  }));

/** YAML: alias bombs, tags, duplicate keys, anchors, deep nesting, several documents. */
const yamlDoc = fc.oneof(
  fc.integer({ min: 3, max: 12 }).map((levels) => {
    let s = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\nx0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
    for (let i = 1; i < levels; i++) s += `x${i}: &a${i} [${Array.from({ length: 9 }, () => `*a${i - 1}`).join(',')}]\n`;
    return `${s}data: {k: v}\n`;
  }),
  fc.constantFrom(
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dupkeys\n  name: other\ndata:\n  a: b\n  a: c\n',
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tags}\ndata:\n  a: !!binary aGVsbG8=\n  b: !!python/object:os.system ls\n  c: !custom x\n  d: !!int "12"\n',
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tagged}\ndata: !!set {a, b}\n',
    '!!map\napiVersion: v1\nkind: !!str ConfigMap\nmetadata: !!map {name: strtag}\n',
    'apiVersion: v1\nkind: ConfigMap\nmetadata: &m {name: anchor}\ndata:\n  <<: *m\n',
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: undefinedalias}\ndata: *nope\n',
    'apiVersion: v1\nkind: ConfigMap\nmetadata: &x {name: self, labels: *x}\n',
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n',
    '---\n---\n', '', '~', '- a\n- b\n', 'a: b: c', '\t- x', '? [a, b]\n: c\n', '? {a: 1}\n: x\napiVersion: v1\n', '%YAML 1.1\n%TAG ! tag:x,2000:\n---\na: !b c\n', '%YAML 9.9\n---\na: b\n',
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: nums}\ndata: {a: 0x1F, b: 0o17, c: .inf, d: .nan, e: 1_000, f: 2001-12-14t21:59:43.10-05:00, g: yes, h: ~}\n',
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bigint}\ndata: {a: 123456789012345678901234567890}\n',
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "\\xff\\ud800"\n',
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: multi}\ndata:\n  a: |\n    line1\n    line2\n  b: >-\n    folded\n',
  ),
  fc.integer({ min: 100, max: 50_000 }).map((d) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata: ${'['.repeat(d)}${']'.repeat(d)}\n`),
  fc.integer({ min: 100, max: 3_000 }).map((d) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deepblock\nspec:\n${Array.from({ length: d }, (_, i) => `${' '.repeat(i + 2)}k${i}:`).join('\n')} 1\n`),
  fc.string({ maxLength: 80 }),
  fc.tuple(kindArb, fc.nat()).map(([k, n]) => { const s = toYaml(k.template('trunc')); return s.slice(0, n % (s.length + 1)); }),
);

const yamlFamily = fc.record({ kind: kindArb, doc: yamlDoc, apply: fc.boolean(), force: fc.constantFrom('', '&force=true', '&force=false', '&force=x'), manager: fc.constantFrom('?fieldManager=fuzz', '', '?fieldManager=') })
  .map(({ kind, doc, apply, force, manager }): FuzzRequest => apply
    ? { family: 'yaml-apply', method: 'PATCH', path: itemPath(kind, fixtureName(kind)) + (manager || '?x=1') + force, headers: { 'content-type': 'application/apply-patch+yaml' }, body: Buffer.from(doc) }
    : { family: 'yaml-create', method: 'POST', path: collectionPath(kind), headers: { 'content-type': YAML_CT }, body: Buffer.from(doc) });

/** Protobuf: valid envelopes with corrupted varints, lengths, wire types, fields and kinds. */
interface ProtoMutation { kind: 'flip' | 'truncate' | 'insert' | 'overlong' | 'badlength' | 'wiretype' | 'field0' | 'deep' | 'kind' | 'encoding' | 'nomagic' | 'none'; at: number; byte: number; text: string }
const protoMutationArb: fc.Arbitrary<ProtoMutation> = fc.record({
  kind: fc.constantFrom('flip', 'flip', 'truncate', 'insert', 'overlong', 'badlength', 'wiretype', 'field0', 'deep', 'kind', 'encoding', 'nomagic', 'none') as fc.Arbitrary<ProtoMutation['kind']>,
  at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }),
  text: fc.constantFrom('', 'v1', 'apps/v1', 'Pod', 'Status', 'DeleteOptions', 'NoSuchKind', 'v1/ConfigMap', 'meta.k8s.io/v1', 'gzip', 'x'.repeat(300), '\u0000', 'ConfigMapList', 'WatchEvent'),
});

function protoBody(k: FuzzKind, obj: Record<string, unknown>, m: ProtoMutation): Buffer {
  const good = encodeObject(obj, k.apiVersion, k.kind);
  const raw = encodeMessage(protoMessageName(k.apiVersion, k.kind), obj);
  const at = 4 + (m.at % Math.max(1, good.length - 4));
  switch (m.kind) {
    case 'flip': { const b = Buffer.from(good); b[at] ^= m.byte || 0x80; return b; }
    case 'truncate': return good.subarray(0, at);
    case 'insert': return Buffer.concat([good.subarray(0, at), Buffer.from([m.byte, 0xff, 0xff]), good.subarray(at)]);
    case 'overlong': return Buffer.concat([good.subarray(0, at), Buffer.alloc(11, 0xff), good.subarray(at)]);
    case 'badlength': return envelope(k.apiVersion, k.kind, Buffer.concat([new ProtoWriter().tag(1, 2).varint(2 ** 31 + m.at).finish(), raw.subarray(0, 10)]));
    case 'wiretype': return envelope(k.apiVersion, k.kind, Buffer.concat([new ProtoWriter().tag(1 + (m.at % 4), m.byte % 8).varint(m.at).finish(), raw]));
    case 'field0': return envelope(k.apiVersion, k.kind, Buffer.concat([Buffer.from([0x00, 0x01]), raw]));
    case 'deep': {
      // ObjectMeta.ownerReferences nested inside themselves does not exist; nest the metadata message in itself.
      let inner: Buffer = new ProtoWriter().bytes(1, 'deep').finish();
      for (let i = 0; i < 50 + (m.at % 5000); i++) inner = new ProtoWriter().bytes(1 + (i % 3), inner).finish();
      return envelope(k.apiVersion, k.kind, inner);
    }
    case 'kind': return envelope(m.text, m.at % 2 ? k.kind : m.text, raw);
    case 'encoding': return envelope(k.apiVersion, k.kind, raw, m.text || 'gzip');
    case 'nomagic': return Buffer.concat([Buffer.from('k8s'), good.subarray(4)]);
    case 'none': return good;
  }
}

const protobufFamily = fc.record({ kind: kindArb, mutations: fc.array(mutationArb, { maxLength: 3 }), m: protoMutationArb, verb: fc.constantFrom('POST', 'POST', 'PUT') })
  .map(({ kind, mutations, m, verb }): FuzzRequest => {
    const obj = mutations.reduce<Json>((d, x) => mutate(d, x), kind.template(verb === 'PUT' ? fixtureName(kind) : 'pb'));
    const body = protoBody(kind, obj && typeof obj === 'object' && !Array.isArray(obj) ? (obj as Record<string, unknown>) : {}, m);
    return { family: 'protobuf', method: verb, path: verb === 'PUT' ? itemPath(kind, fixtureName(kind)) : collectionPath(kind), headers: { 'content-type': PROTO_CT, accept: `${PROTO_CT},application/json` }, body };
  });

/** Bodies above the 3 MiB limit (413), declared or streamed, and ones just below it. */
const hugeFamily = fc.record({ kind: kindArb, bytes: fc.integer({ min: 3 * 1024 * 1024 + 1, max: 6 * 1024 * 1024 }), chunked: fc.boolean(), below: fc.boolean(), verb: fc.constantFrom('POST', 'PUT', 'PATCH') })
  .map(({ kind, bytes, chunked, below, verb }): FuzzRequest => ({
    family: below ? 'large-below-limit' : 'huge', method: verb, path: verb === 'POST' ? collectionPath(kind) : itemPath(kind, fixtureName(kind)),
    headers: { 'content-type': verb === 'PATCH' ? 'application/merge-patch+json' : JSON_CT },
    body: below ? { repeat: 'a', bytes: 2 * 1024 * 1024, chunked } : { repeat: '{"a":', bytes, chunked },
  }));

/** Raw sockets: truncated bodies (Content-Length larger than sent) and malformed HTTP. */
const rawFamily = fc.record({ kind: kindArb, variant: fc.nat({ max: 14 }), n: fc.nat({ max: 5000 }), s: fc.string({ maxLength: 30 }) })
  .map(({ kind, variant, n, s }): FuzzRequest => {
    const path = collectionPath(kind);
    const body = JSON.stringify(kind.template('raw'));
    const h = (lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;
    let text: string;
    let close = false;
    switch (variant) {
      case 0: text = h([`POST ${path} HTTP/1.1`, 'Host: x', 'Content-Type: application/json', `Content-Length: ${body.length + 1 + n}`]) + body.slice(0, n % body.length); close = true; break;
      case 1: text = h([`PATCH ${itemPath(kind, fixtureName(kind))} HTTP/1.1`, 'Host: x', 'Content-Type: application/merge-patch+json', 'Content-Length: 100000']) + '{"metadata":'; close = true; break;
      case 2: text = h([`POST ${path} HTTP/1.1`, 'Host: x', 'Transfer-Encoding: chunked']) + `ffff\r\n${body}`; close = true; break;
      case 3: text = h([`POST ${path} HTTP/1.1`, 'Host: x', 'Transfer-Encoding: chunked']) + `zz\r\n${body}\r\n0\r\n\r\n`; break;
      case 4: text = h([`POST ${path} HTTP/1.1`, 'Host: x', 'Content-Length: 5', 'Transfer-Encoding: chunked']) + '0\r\n\r\n'; break;
      case 5: text = h([`POST ${path} HTTP/1.1`, 'Host: x', 'Content-Length: 5', 'Content-Length: 6']) + 'abcdef'; break;
      case 6: text = h([`GET ${path} HTTP/1.1`, 'Host: x', `X-Big: ${'h'.repeat(20_000 + n * 20)}`]); break;
      case 7: text = h([`GET ${path}`, 'Host: x']); break;
      case 8: text = h([`GET ${path} HTTP/9.9`, 'Host: x']); break;
      case 9: text = h([`G@T ${path} HTTP/1.1`, 'Host: x']); break;
      case 10: text = h([`GET /api/v1/namespaces/${NS}/configmaps/${s.replace(/[\r\n]/g, '')} HTTP/1.1`, 'Host: x']); break;
      case 11: text = h([`GET ${path} HTTP/1.1`, 'Host: x', `Bad Header: ${s}`]); break;
      case 12: text = h([`POST ${path} HTTP/1.1`, 'Host: x', 'Content-Length: -1']); break;
      case 13: text = h([`GET ${path}?${'q'.repeat(10_000 + n * 10)}=1 HTTP/1.1`, 'Host: x']); break;
      default: text = `${s}\r\n\r\n`; close = true; break;
    }
    return { family: `raw-${variant}`, method: 'RAW', path, headers: {}, raw: { bytes: Buffer.from(text, 'latin1'), close } };
  });

/** JSON patch operations against existing objects: valid-looking paths with broken parts. */
const jsonPatchOpArb = fc.record({
  op: fc.constantFrom('add', 'remove', 'replace', 'move', 'copy', 'test', 'bogus', '', 'ADD'),
  path: fc.constantFrom('/metadata/labels/x', '/metadata/labels', '/metadata/labels/a~1b', '/metadata/labels/~2', '/metadata/name', '/metadata/namespace', '/metadata/resourceVersion', '/metadata/finalizers/-', '/metadata/finalizers/0', '/data/a', '/data', '/spec', '/spec/replicas', '/spec/containers/0/image', '/spec/template/spec/containers/0/image', '/spec/containers/-', '/spec/containers/99', '/spec/containers/-1', '/spec/containers/01', '/spec/ports/0/port', '/rules/0/verbs/-', '', '/', 'metadata', '/a/b/c/d', '/status', '/kind', '/apiVersion', '/metadata/managedFields', '/spec/selector'),
  from: fc.option(fc.constantFrom('/metadata/labels', '/metadata', '/spec', '/nope', '', '/metadata/labels/app'), { nil: undefined }),
  value: fc.option(valueArb, { nil: undefined }),
});

const jsonPatchBody = fc.oneof(
  { arbitrary: fc.array(jsonPatchOpArb, { maxLength: 6 }).map((ops) => json(ops)), weight: 6 },
  { arbitrary: fc.constantFrom('{}', '[', 'null', '[null]', '[1]', '[{"op":"add"}]', '[{"path":"/x"}]', '[{"op":"add","path":"/metadata/labels/x"}]', '[{"op":"add","path":1,"value":1}]', '[{"op":"move","path":"/metadata/labels/x"}]').map((s) => Buffer.from(s)), weight: 2 },
  { arbitrary: fc.integer({ min: 10_001, max: 12_000 }).map((n) => json(Array.from({ length: n }, () => ({ op: 'test', path: '/kind', value: 'x' })))), weight: 1 },
  { arbitrary: fc.integer({ min: 10, max: 200 }).map((n) => json(Array.from({ length: n }, (_, i) => ({ op: 'copy', from: i ? '/metadata' : '/metadata', path: `/metadata/annotations/c${i}` })))), weight: 1 },
);

const mergePatchBody = (k: FuzzKind) => fc.oneof(
  { arbitrary: mutatedObject(k, fixtureName(k), 4).map((o) => json(o)), weight: 4 },
  { arbitrary: fc.array(mutationArb, { maxLength: 3 }).map((ms) => json(ms.reduce<Json>((d, m) => mutate(d, m), { metadata: { labels: { x: 'y' } } }))), weight: 3 },
  { arbitrary: fc.constantFrom('null', '[]', '"x"', '1', '{"metadata":null}', '{"metadata":{"labels":null}}', '{"spec":null}', '{"kind":null}', '{"apiVersion":"v2"}', '{"kind":"Other"}', '{"metadata":{"name":"renamed"}}', '{"metadata":{"namespace":"other"}}', '{"metadata":{"uid":"x"}}', '{"metadata":{"resourceVersion":"1"}}', '{"metadata":{"resourceVersion":"x"}}', '{"metadata":{"finalizers":[1]}}', '{"metadata":{"ownerReferences":[{}]}}', '{"metadata":{"managedFields":[{"manager":1}]}}', '{"metadata":{"managedFields":"x"}}', '{"metadata":{"creationTimestamp":"yesterday"}}', '{"metadata":{"deletionTimestamp":"2020-01-01T00:00:00Z"}}', '{"metadata":{"generation":-5}}').map((s) => Buffer.from(s)), weight: 3 },
);

const smpBody = (k: FuzzKind) => fc.oneof(
  { arbitrary: mergePatchBody(k), weight: 3 },
  { arbitrary: fc.constantFrom(
    '{"spec":{"containers":[{"name":"c","$patch":"delete"}]}}', '{"spec":{"containers":[{"$patch":"replace"}]}}', '{"spec":{"containers":[{"name":"c","image":"x"}],"$setElementOrder/containers":[{"name":"z"}]}}',
    '{"spec":{"$setElementOrder/containers":"x"}}', '{"spec":{"$setElementOrder/containers":[1,2]}}', '{"spec":{"$retainKeys":["containers"]}}', '{"spec":{"$retainKeys":"x"}}', '{"spec":{"$retainKeys":[1]}}',
    '{"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}}', '{"metadata":{"$deleteFromPrimitiveList/finalizers":"a"}}', '{"$patch":"delete"}', '{"$patch":"replace"}', '{"$patch":"merge"}', '{"$patch":"bogus"}', '{"$patch":1}',
    '{"spec":{"template":{"spec":{"containers":[{"name":"c","ports":[{"containerPort":80,"$patch":"delete"}]}]}}}}', '{"spec":{"template":{"spec":{"containers":[{"image":"noname"}]}}}}', '{"spec":{"template":{"spec":{"containers":[{"name":1}]}}}}',
    '{"spec":{"template":{"spec":{"containers":{"name":"c"}}}}}', '{"spec":{"ports":[{"port":80,"protocol":"UDP"},{"port":80,"protocol":"UDP"}]}}', '{"spec":{"ports":[{"$patch":"delete"}]}}', '{"spec":{"ports":[{"port":"x"}]}}',
    '{"rules":[{"$patch":"replace"}]}', '{"data":{"$patch":"replace","a":"z"}}', '{"data":{"$patch":"delete"}}', '{"metadata":{"labels":{"$patch":"replace"}}}', '{"spec":{"$patch":"replace"}}', '{"spec":{"tolerations":[{"$patch":"delete","key":"k"}]}}',
    '{"spec":{"containers":[{"name":"c","env":[{"name":"A","$patch":"delete"},{"name":"A","value":"2"}]}]}}', '{"spec":{"containers":[{"name":"c","$retainKeys":["name"]}]}}', '{"spec":{"$setElementOrder/tolerations":[{"key":"k"}],"tolerations":[]}}',
  ).map((s) => Buffer.from(s)), weight: 4 },
);

const applyBody = (k: FuzzKind) => fc.oneof(
  { arbitrary: mutatedObject(k, fixtureName(k), 3).map((o) => json(o)), weight: 4 },
  { arbitrary: mutatedObject(k, fixtureName(k), 3).map((o) => Buffer.from(toYaml(o))), weight: 2 },
  { arbitrary: fc.constantFrom('{}', '{"apiVersion":"v1"}', '{"kind":"ConfigMap"}', '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"other"}}', '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"fx"}}', 'null', '[]', 'a: b: c', '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fx","managedFields":[{"manager":"m"}]}}', '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"fx"},"spec":{"containers":[{"name":"c"},{"name":"c"}]}}').map((s) => Buffer.from(s)), weight: 2 },
);

/** Broken JSON, merge, strategic merge and apply patches against the fixtures (and their subresources). */
const patchFamilyWithKind = kindArb.chain((kind) => patchFamilyFor(kind));
function patchFamilyFor(kind: FuzzKind): fc.Arbitrary<FuzzRequest> {
  return fc.record({
    type: fc.constantFrom(...PATCH_TYPES, ...PATCH_TYPES, 'application/json', 'text/plain', 'application/merge-patch+json; charset=utf-8', 'application/strategic-merge-patch+json;v=2', ''),
    sub: fc.oneof({ arbitrary: fc.constant(''), weight: 6 }, { arbitrary: fc.constantFrom('', ...kind.subresources, 'bogus'), weight: 2 }),
    query: fc.array(fc.oneof(
      fc.constantFrom<QueryParam>(['fieldManager', 'fuzz'], ['force', 'true'], ['force', 'false'], ['force', 'yes'], ['dryRun', 'All'], ['dryRun', 'Nope'], ['fieldValidation', 'Strict'], ['fieldValidation', 'Ignore'], ['fieldValidation', 'Warn'], ['fieldValidation', 'Bogus'], ['fieldManager', 'm'.repeat(200)], ['fieldManager', '%0A']),
      queryParamArb,
    ), { maxLength: 3 }),
    jp: jsonPatchBody, mp: mergePatchBody(kind), smp: smpBody(kind), ap: applyBody(kind),
    name: fc.oneof({ arbitrary: fc.constant(fixtureName(kind)), weight: 8 }, { arbitrary: oddNameArb, weight: 1 }),
  }).map(({ type, sub, query, jp, mp, smp, ap, name }): FuzzRequest => {
    const base = type.split(';')[0].trim();
    const body = base === 'application/json-patch+json' ? jp : base === 'application/merge-patch+json' ? mp : base === 'application/apply-patch+yaml' ? ap : smp;
    const q = base === 'application/apply-patch+yaml' && !query.some(([k]) => k === 'fieldManager') && name.length % 3 ? [...query, ['fieldManager', 'fuzz'] as QueryParam] : query;
    return { family: `patch-${base.split('/')[1] || 'none'}${sub ? '-sub' : ''}`, method: 'PATCH', path: `${itemPath(kind, name)}${sub ? `/${sub}` : ''}${toQuery(q)}`, headers: type ? { 'content-type': type } : {}, body };
  });
}

/** Lists and watches with invalid selectors and bogus resourceVersion/limit/continue/timeout. */
const listFamily = fc.record({ kind: kindArb, query: fc.array(queryParamArb, { minLength: 1, maxLength: 5 }), watch: fc.nat({ max: 9 }), allNs: fc.boolean(), accept: fc.constantFrom(undefined, undefined, 'application/json;as=Table;v=v1;g=meta.k8s.io', 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io', 'application/vnd.kubernetes.protobuf') })
  .map(({ kind, query, watch, allNs, accept }): FuzzRequest => {
    const q = watch < 3 ? [...query.filter(([k]) => k !== 'timeoutSeconds' && k !== 'watch'), ...watchParams] : query.filter(([k]) => k !== 'watch');
    const path = (allNs && kind.namespaced ? collectionPath(kind).replace(`/namespaces/${NS}`, '') : collectionPath(kind)) + toQuery(q);
    return { family: isWatch('GET', q) ? 'watch-params' : 'list-params', method: 'GET', path, headers: accept ? { accept } : {}, watch: isWatch('GET', q) };
  });

/** Odd names and paths: get/put/delete/post on names and path shapes the server should refuse. */
const pathFamily = fc.record({
  kind: kindArb, name: oddNameArb, method: fc.constantFrom('GET', 'GET', 'DELETE', 'PUT', 'POST', 'HEAD', 'OPTIONS', 'PATCH', 'TRACE'),
  shape: fc.nat({ max: 17 }), sub: fc.constantFrom('status', 'scale', 'log', 'exec', 'proxy', 'binding', 'eviction', 'token', 'finalize', 'bogus', 'status/extra', 'proxy/a/b'),
  seg: fc.constantFrom('v1', 'v2', 'v1beta1', 'V1', '', 'apps', 'bogus.example.com', '..', '%2e%2e', 'x'.repeat(300)), query: queryArb,
}).map(({ kind, name, method, shape, sub, seg, query }): FuzzRequest => {
  const item = itemPath(kind, name);
  const paths = [
    item, `${item}/${sub}`, `/api/v1/namespaces/${name}/configmaps`, `/api/v1/namespaces/${name}/configmaps/fx`, `/apis/${seg}/v1/namespaces/${NS}/${kind.resource}`, `/apis/apps/${seg}/deployments`, `/api/${seg}/pods`,
    `//api//v1//namespaces//${NS}//configmaps//fx`, `/api/v1/namespaces/${NS}/${seg}`, `/api/v1/watch/namespaces/${NS}/${kind.resource}/${name}`, `/${'a/'.repeat(2000)}`, `/api/v1/${'x'.repeat(8000)}`,
    `/apis/${seg}`, `/api/v1/namespaces/${NS}/pods/fx/${sub}`, `/api/v1/nodes/${name}/proxy`, `/openapi/v3/apis/${seg}/v1`, `/api/v1/namespaces/${NS}/configmaps/fx/..%2F..%2Fsecrets`, `${collectionPath(kind)}/${name}/status`,
  ];
  // A Service without endpoints answers its proxy with 503, as upstream; that is not what this family looks for.
  const path = kind.resource === 'services' && shape === 1 && sub.startsWith('proxy') ? `${item}/status` : paths[shape];
  const hasBody = method === 'PUT' || method === 'POST' || method === 'PATCH';
  const body = hasBody ? json(kind.template(decodeSafe(name))) : undefined;
  const headers: Record<string, string> = hasBody ? { 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : JSON_CT } : {};
  const q = query.filter(([k]) => k !== 'watch');
  return { family: 'paths', method, path: path + toQuery(q), headers, body };
});

/** Valid requests with wrong or odd Content-Type and Accept headers. */
const headerFamily = fc.record({
  kind: kindArb, verb: fc.constantFrom('POST', 'PUT', 'GET', 'PATCH'),
  ct: fc.constantFrom('text/plain', 'application/xml', 'application/json;charset=latin1', 'APPLICATION/JSON', 'application/json; foo="bar', 'application/json, text/plain', '', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/vnd.kubernetes.protobuf;stream=watch', 'application/cbor', 'application/yaml; charset=utf-16', '*/*', 'application/*', 'application/merge-patch+json', 'application/json-patch+json'),
  accept: fc.constantFrom('text/html', 'application/xml', 'application/json;as=Table;v=v2;g=meta.k8s.io', 'application/json;as=Table;g=bogus', 'application/json;as=APIGroupDiscoveryList;v=v2;g=apidiscovery.k8s.io', 'application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io', '*/*;q=0', ';;;', 'application/cbor', 'application/yaml', 'application/vnd.kubernetes.protobuf;stream=watch', 'x'.repeat(2000)),
  which: fc.nat({ max: 2 }),
}).map(({ kind, verb, ct, accept, which }): FuzzRequest => {
  const headers: Record<string, string> = {};
  if (which !== 1) headers['content-type'] = ct;
  if (which !== 0) headers.accept = accept;
  const path = verb === 'POST' ? collectionPath(kind) : itemPath(kind, fixtureName(kind));
  const body = verb === 'GET' ? undefined : json(verb === 'PATCH' ? { metadata: { labels: { h: 'x' } } } : kind.template(verb === 'PUT' ? fixtureName(kind) : 'hdr'));
  return { family: 'headers', method: verb, path, headers, body };
});

/** Deletes with odd DeleteOptions bodies and parameters (on objects that may not exist). */
const deleteFamily = fc.record({
  kind: kindArb, name: fc.oneof(fc.constantFrom('fx', 'gone', 'f0'), oddNameArb), query: queryArb, collection: fc.nat({ max: 9 }),
  body: fc.oneof(fc.constant(undefined), fc.constantFrom('{"propagationPolicy":"Nope"}', '{"gracePeriodSeconds":-5}', '{"gracePeriodSeconds":"x"}', '{"preconditions":{"uid":"nope"}}', '{"preconditions":{"resourceVersion":"1"}}', '{"dryRun":["All"]}', '{"dryRun":"All"}', '{"kind":"DeleteOptions","apiVersion":"v1"}', '{"kind":"Pod"}', '[]', 'null', '{', '{"orphanDependents":true,"propagationPolicy":"Foreground"}').map((s) => Buffer.from(s))),
}).map(({ kind, name, query, collection, body }): FuzzRequest => {
  // Collection deletes stay off the fixture kinds' collections most of the time, so fixtures survive.
  const path = collection === 0 && kind.namespaced ? `${collectionPath(kind)}?labelSelector=${encodeURIComponent('app=nothing')}` : `${itemPath(kind, name)}${toQuery(query.filter(([k]) => k !== 'watch'))}`;
  return { family: 'delete', method: 'DELETE', path, headers: body ? { 'content-type': JSON_CT } : {}, body };
});

export const requestArb: fc.Arbitrary<FuzzRequest> = fc.oneof(
  { arbitrary: objectFamily, weight: 22 },
  { arbitrary: malformedFamily, weight: 9 },
  { arbitrary: yamlFamily, weight: 6 },
  { arbitrary: protobufFamily, weight: 8 },
  { arbitrary: hugeFamily, weight: 1 },
  { arbitrary: rawFamily, weight: 3 },
  { arbitrary: patchFamilyWithKind, weight: 24 },
  { arbitrary: listFamily, weight: 11 },
  { arbitrary: pathFamily, weight: 8 },
  { arbitrary: headerFamily, weight: 4 },
  { arbitrary: deleteFamily, weight: 4 },
).filter((r) => safeMethodFor(r.path, r.method));

