// Compares the OpenAPI documents Podium serves with upstream's /openapi/v2 (read at test time as
// an oracle, never copied into the project): for every definition reachable from the served kinds,
// property names, types and formats, required lists, patch and list metadata and the
// group/version/kind extensions; for every served resource, its paths, operationIds, actions, kinds
// and parameter names. Also checks what kubectl needs from each v3 document, and the HTTP handler.
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { coreResources } from '../../server/registry/core.js';
import { groupResources } from '../../server/registry/groups.js';
import { authenticationResources } from '../../server/registry/authentication.js';
import { authorizationResources } from '../../server/registry/authorization.js';
import { rbacResources } from '../../server/registry/rbac.js';
import { OpenApiDocuments } from '../../openapi/documents.js';
import { definition } from '../../openapi/type-graph.js';
import { createOpenApiHandler } from '../../server/http/openapi-handler.js';

const ORACLE = process.env.PODIUM_OPENAPI_ORACLE ?? '/work/shared/reference/kubernetes-openapi-v2.json';
const SERVED = [...coreResources, ...groupResources, ...authenticationResources, ...authorizationResources, ...rbacResources];

/** Differences kept on purpose, by key (`definition`, `definition.field`, `path method`) -> why. */
const CHANGED_AFTER_1_30 = 'required-ness changed upstream after kubernetes-types 1.30, which the schemas are generated from';
const REMOVED_AFTER_1_30 = 'removed upstream after kubernetes-types 1.30 (DRA claim sources)';
const REQUIRED_IN_TYPES = 'kubernetes-types 1.30 (the schema source) and upstream\'s OpenAPI disagree on whether the field is required';
const INTENTIONAL: Record<string, string> = {
  'io.k8s.api.apps.v1.StatefulSetSpec.serviceName': CHANGED_AFTER_1_30,
  'io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler.spec': CHANGED_AFTER_1_30,
  'io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler.spec': CHANGED_AFTER_1_30,
  'io.k8s.api.batch.v1.CronJob.spec': CHANGED_AFTER_1_30,
  'io.k8s.api.batch.v1.PodFailurePolicyOnPodConditionsPattern.status': CHANGED_AFTER_1_30,
  'io.k8s.api.core.v1.HostAlias.ip': CHANGED_AFTER_1_30,
  'io.k8s.api.core.v1.HostIP.ip': CHANGED_AFTER_1_30,
  'io.k8s.api.core.v1.PodIP.ip': CHANGED_AFTER_1_30,
  'io.k8s.api.discovery.v1.EndpointSlice.endpoints': CHANGED_AFTER_1_30,
  'io.k8s.api.networking.v1.NetworkPolicySpec.podSelector': CHANGED_AFTER_1_30,
  'io.k8s.api.policy.v1.PodDisruptionBudgetStatus.currentHealthy': CHANGED_AFTER_1_30,
  'io.k8s.api.policy.v1.PodDisruptionBudgetStatus.desiredHealthy': CHANGED_AFTER_1_30,
  'io.k8s.api.policy.v1.PodDisruptionBudgetStatus.disruptionsAllowed': CHANGED_AFTER_1_30,
  'io.k8s.api.policy.v1.PodDisruptionBudgetStatus.expectedPods': CHANGED_AFTER_1_30,
  'io.k8s.api.core.v1.ClaimSource': REMOVED_AFTER_1_30,
  'io.k8s.api.authentication.v1.TokenRequest.spec': REQUIRED_IN_TYPES,
  'io.k8s.api.authentication.v1.TokenRequestSpec.audiences': REQUIRED_IN_TYPES,
  'io.k8s.api.authentication.v1.TokenRequestStatus.expirationTimestamp': REQUIRED_IN_TYPES,
  'io.k8s.api.authentication.v1.TokenRequestStatus.token': REQUIRED_IN_TYPES,
  'io.k8s.api.authentication.v1.TokenReviewSpec.token': REQUIRED_IN_TYPES,
  'io.k8s.api.rbac.v1.RoleRef.apiGroup': REQUIRED_IN_TYPES,
  'io.k8s.api.core.v1.PodResourceClaim.source': REMOVED_AFTER_1_30,
};

/** Whole classes of intentional difference, each with its reason; a key matching one is intentional. */
const INTENTIONAL_RULES: { reason: string; applies(key: string, what: string): boolean }[] = [
  {
    reason: 'added upstream after kubernetes-types 1.30, which the schemas are generated from',
    applies: (key, what) => {
      const owner = definition(key.slice(0, key.lastIndexOf('.')));
      return what === 'only upstream' && owner !== undefined && !owner.properties[key.slice(key.lastIndexOf('.') + 1)];
    },
  },
  {
    reason: 'authentication.k8s.io/v1beta1 SelfSubjectReview, served for kubectl 1.27\'s `auth whoami` (v1 came in 1.28); upstream\'s document is from a release without it',
    applies: (key) => key.includes('authentication.k8s.io/v1beta1') || key.includes('authentication.v1beta1'),
  },
  {
    reason: 'DeleteOptions and WatchEvent list the group versions Podium serves, a subset of upstream\'s',
    applies: (_key, what) => what.startsWith('gvk subset'),
  },
  {
    reason: 'operations on subresources Podium does not serve (proxy, ephemeralcontainers, resize)',
    applies: (key, what) => what === 'only upstream' && /\/(proxy|ephemeralcontainers|resize)(\/|\s|$)/.test(key),
  },
  {
    reason: 'parameters of features Podium does not implement (sharded lists, unsafe deletes, log streams by name)',
    applies: (_key, what) => /^parameter (shardSelector|ignoreStoreReadErrorWithClusterBreakingPotential|stream) only upstream$/.test(what),
  },
];

interface S {
  $ref?: string; type?: string; format?: string; items?: S; additionalProperties?: S; properties?: Record<string, S>;
  required?: string[]; allOf?: S[]; [ext: `x-${string}`]: unknown;
}
type Gvk = { group: string; version: string; kind: string };
interface Op { operationId?: string; parameters?: ({ name: string; in: string } | { $ref: string })[]; [k: string]: unknown }
interface Doc { definitions: Record<string, S>; paths: Record<string, Record<string, Op>>; parameters?: Record<string, { name: string; in: string }> }

const LIST_EXTENSIONS = ['x-kubernetes-patch-strategy', 'x-kubernetes-patch-merge-key', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-map-type'] as const;

/** A schema's shape: type, format, reference, element and value shapes. */
function shape(s: S | undefined): string {
  if (!s) return 'none';
  if (s.$ref) return `ref:${s.$ref.replace(/^#\/(definitions|components\/schemas)\//, '')}`;
  if (s.type === 'array') return `array<${shape(s.items)}>`;
  if (s.type === 'object' && s.additionalProperties) return `map<${shape(s.additionalProperties)}>`;
  return `${s.type ?? 'any'}${s.format ? `/${s.format}` : ''}`;
}
const extensionsOf = (s: S) => JSON.stringify(LIST_EXTENSIONS.map((k) => s[k] ?? null));
const gvkKey = (g: Gvk) => `${g.group}/${g.version}/${g.kind}`;

class Differences {
  readonly unexplained: string[] = [];
  readonly byReason = new Map<string, number>();
  readonly seenKeys = new Set<string>();
  total = 0;
  add(key: string, what: string): void {
    this.total++;
    const reason = INTENTIONAL[key] ?? INTENTIONAL_RULES.find((r) => r.applies(key, what))?.reason;
    if (INTENTIONAL[key]) this.seenKeys.add(key);
    if (reason) this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + 1);
    else this.unexplained.push(`${key}: ${what}`);
  }
  get intentional(): number { return this.total - this.unexplained.length; }
}

const docs = new OpenApiDocuments(SERVED);
const haveOracle = existsSync(ORACLE);

(haveOracle ? describe : describe.skip)('OpenAPI documents vs upstream', () => {
  const oracle = haveOracle ? (JSON.parse(readFileSync(ORACLE, 'utf8')) as Doc) : ({ definitions: {}, paths: {} } as Doc);
  const ours = docs.v2Document() as unknown as Doc;
  const diffs = new Differences();
  let properties = 0;
  let operations = 0;

  test('definitions: properties, types, formats, required, patch and list metadata, kinds', () => {
    for (const [name, s] of Object.entries(ours.definitions)) {
      const o = oracle.definitions[name];
      if (!o) { diffs.add(name, 'only ours'); continue; }
      if (shape(s) !== shape(o)) diffs.add(name, `type ours=${shape(s)} upstream=${shape(o)}`);
      if ((s['x-kubernetes-map-type'] ?? null) !== (o['x-kubernetes-map-type'] ?? null)) diffs.add(name, 'definition map type');
      if (JSON.stringify(s['x-kubernetes-unions'] ?? null) !== JSON.stringify(o['x-kubernetes-unions'] ?? null)) diffs.add(name, 'unions');
      const ourGvk = ((s['x-kubernetes-group-version-kind'] ?? []) as Gvk[]).map(gvkKey);
      const theirGvk = ((o['x-kubernetes-group-version-kind'] ?? []) as Gvk[]).map(gvkKey);
      if (ourGvk.join() !== theirGvk.join()) {
        const subset = ourGvk.length > 0 && ourGvk.every((g) => theirGvk.includes(g));
        diffs.add(name, subset ? `gvk subset (${ourGvk.length} of ${theirGvk.length})` : `gvk ours=${ourGvk} upstream=${theirGvk}`);
      }
      const fields = new Set([...Object.keys(s.properties ?? {}), ...Object.keys(o.properties ?? {})]);
      for (const field of [...fields].sort()) {
        const key = `${name}.${field}`;
        const ps = s.properties?.[field];
        const po = o.properties?.[field];
        if (!ps || !po) { diffs.add(key, ps ? 'only ours' : 'only upstream'); continue; }
        properties++;
        if (shape(ps) !== shape(po)) diffs.add(key, `type ours=${shape(ps)} upstream=${shape(po)}`);
        if (extensionsOf(ps) !== extensionsOf(po)) diffs.add(key, `metadata ours=${extensionsOf(ps)} upstream=${extensionsOf(po)}`);
        const rs = s.required?.includes(field) ?? false;
        const ro = o.required?.includes(field) ?? false;
        if (rs !== ro) diffs.add(key, `required ours=${rs} upstream=${ro}`);
      }
    }
  });

  test('paths: operationIds, actions, kinds and parameters of every served resource', () => {
    const parameterNames = (doc: Doc, path: string, op: Op): string[] => {
      const resolve = (p: { name: string; in: string } | { $ref: string }) =>
        ('$ref' in p ? doc.parameters![p.$ref.replace('#/parameters/', '')]! : p);
      return [...(doc.paths[path]!.parameters as unknown as Op['parameters'] ?? []), ...(op.parameters ?? [])].map(resolve).map((p) => `${p.in}:${p.name}`).sort();
    };
    // Which served resource an upstream path belongs to, read as the server's router reads it.
    const served = new Set(SERVED.map((d) => `${d.group ? `/apis/${d.group}` : '/api'}/${d.version} ${d.plural}`));
    const resourceOf = (path: string): string | undefined => {
      const m = /^(\/api\/[^/]+|\/apis\/[^/]+\/[^/]+)\/(.*)$/.exec(path);
      if (!m) return undefined;
      let rest = m[2]!.split('/');
      if (rest[0] === 'watch') rest = rest.slice(1);
      if (rest[0] === 'namespaces' && rest[1] === '{namespace}' && rest.length > 2) rest = rest.slice(2);
      return served.has(`${m[1]} ${rest[0]}`) ? `${m[1]} ${rest[0]}` : undefined;
    };
    const methods = (item: Record<string, Op>) => Object.keys(item).filter((k) => k !== 'parameters');
    for (const path of Object.keys(oracle.paths).filter(resourceOf)) {
      for (const m of methods(oracle.paths[path]!)) if (!ours.paths[path]?.[m]) diffs.add(`${path} ${m}`, 'only upstream');
    }
    for (const [path, item] of Object.entries(ours.paths)) {
      for (const m of methods(item)) {
        const key = `${path} ${m}`;
        const theirs = oracle.paths[path]?.[m];
        if (!theirs) { diffs.add(key, 'only ours'); continue; }
        operations++;
        const op = item[m]!;
        for (const field of ['operationId', 'x-kubernetes-action', 'x-kubernetes-group-version-kind'] as const) {
          if (JSON.stringify(op[field]) !== JSON.stringify(theirs[field])) diffs.add(key, `${field} ours=${JSON.stringify(op[field])} upstream=${JSON.stringify(theirs[field])}`);
        }
        // Podium takes fewer encodings (no CBOR) but never one upstream does not.
        if (!(op.consumes as string[]).every((c) => (theirs.consumes as string[]).includes(c))) diffs.add(key, `consumes ours=${op.consumes} upstream=${theirs.consumes}`);
        const a = parameterNames(ours, path, op);
        const b = parameterNames(oracle, path, theirs);
        for (const p of b.filter((x) => !a.includes(x))) diffs.add(key, `parameter ${p.split(':')[1]} only upstream`);
        for (const p of a.filter((x) => !b.includes(x))) diffs.add(key, `parameter ${p.split(':')[1]} only ours`);
      }
    }
  });

  afterAll(() => {
    const intentionalNote = [...diffs.byReason].map(([r, n]) => `    ${n}: ${r}`).join('\n');
    console.log(`openapi: ${SERVED.length} kinds, ${Object.keys(ours.definitions).length} definitions, ${properties} properties compared, ` +
      `${operations} operations compared, ${diffs.total} differences (${diffs.intentional} intentional)\n${intentionalNote}` +
      (diffs.unexplained.length ? `\n  unexplained:\n    ${diffs.unexplained.join('\n    ')}` : ''));
  });

  test('no unexplained difference, no stale intentional entry', () => {
    expect(diffs.unexplained).toEqual([]);
    expect(Object.keys(INTENTIONAL).filter((k) => !diffs.seenKeys.has(k))).toEqual([]);
  });
});

describe('OpenAPI v3 documents', () => {
  const refsOf = (s: unknown): string[] => {
    if (!s || typeof s !== 'object') return [];
    if (Array.isArray(s)) return s.flatMap(refsOf);
    return Object.entries(s as Record<string, unknown>).flatMap(([k, v]) => (k === '$ref' && typeof v === 'string' ? [v] : refsOf(v)));
  };
  interface V3Op { 'x-kubernetes-group-version-kind'?: Gvk; parameters?: { name: string; in: string }[]; requestBody?: { content: Record<string, unknown> } }
  type V3Doc = { paths: Record<string, Record<string, V3Op> & { parameters?: { name: string; in: string }[] }>; components: { schemas: Record<string, S> } };

  test('the root names every served group version with its content hash', () => {
    const root = JSON.parse(docs.v3Root().body.toString()) as { paths: Record<string, { serverRelativeURL: string }> };
    for (const def of SERVED) {
      const name = def.group ? `apis/${def.group}/${def.version}` : `api/${def.version}`;
      expect(root.paths[name]?.serverRelativeURL).toBe(`/openapi/v3/${name}?hash=${docs.v3(name)!.hash}`);
      expect(docs.v3(name)!.hash).toMatch(/^[0-9A-F]{128}$/);
    }
  });

  test('every served kind has a PATCH operation kubectl accepts for server-side validation and strategic merge', () => {
    // The reviews are create-only: nothing to patch.
    for (const def of SERVED.filter((d) => !d.review)) {
      const doc = JSON.parse(docs.v3(def.group ? `apis/${def.group}/${def.version}` : `api/${def.version}`)!.body.toString()) as V3Doc;
      const patches = Object.values(doc.paths).flatMap((item) => (item.patch ? [{ op: item.patch, shared: item.parameters ?? [] }] : []))
        .filter(({ op }) => JSON.stringify(op['x-kubernetes-group-version-kind']) === JSON.stringify({ group: def.group, kind: def.kind, version: def.version }));
      expect(patches.length).toBeGreaterThan(0);
      for (const { op, shared } of patches) {
        expect([...shared, ...(op.parameters ?? [])].some((p) => p.name === 'fieldValidation' && p.in === 'query')).toBe(true);
        expect(Object.keys(op.requestBody!.content)).toEqual(expect.arrayContaining(['application/strategic-merge-patch+json', 'application/apply-patch+yaml']));
      }
      // The schema kubectl takes merge keys from carries the kind.
      const schema = Object.values(doc.components.schemas).find((s) => (s['x-kubernetes-group-version-kind'] as Gvk[] | undefined)?.some((g) => g.group === def.group && g.version === def.version && g.kind === def.kind));
      expect(schema).toBeDefined();
    }
  });

  test('every reference in every document resolves', () => {
    for (const name of docs.v3Names()) {
      const doc = JSON.parse(docs.v3(name)!.body.toString()) as V3Doc;
      const missing = refsOf(doc).map((r) => r.replace('#/components/schemas/', '')).filter((r) => !doc.components.schemas[r]);
      expect({ name, missing: [...new Set(missing)] }).toEqual({ name, missing: [] });
    }
    const v2 = docs.v2Document() as unknown as Doc;
    expect(refsOf(v2).map((r) => r.replace('#/definitions/', '')).filter((r) => !v2.definitions[r])).toEqual([]);
  });
});

describe('OpenAPI handler', () => {
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    const handle = createOpenApiHandler(SERVED);
    server = http.createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      if (!handle(req, res, url.pathname.replace(/\/+$/, ''), url.searchParams)) { res.writeHead(418); res.end(); }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const get = (path: string, headers: Record<string, string> = {}) => fetch(base + path, { headers, redirect: 'manual' });

  test('root and group version documents carry ETags; a current hash is immutable, a stale one redirects', async () => {
    const root = await get('/openapi/v3');
    expect(root.headers.get('content-type')).toBe('application/json');
    const url = ((await root.json()) as { paths: Record<string, { serverRelativeURL: string }> }).paths['apis/apps/v1']!.serverRelativeURL;
    const hashed = await get(`${url}&timeout=32s`, { Accept: 'application/json' });
    expect(hashed.status).toBe(200);
    expect(hashed.headers.get('cache-control')).toBe('public, immutable');
    const etag = hashed.headers.get('etag')!;
    expect(etag).toBe(`"${new URL(url, base).searchParams.get('hash')}"`);
    expect(((await hashed.json()) as { openapi: string }).openapi).toBe('3.0.0');
    expect((await get(url, { 'If-None-Match': etag })).status).toBe(304);
    const plain = await get('/openapi/v3/apis/apps/v1');
    expect(plain.headers.get('cache-control')).toBe('no-cache, private');
    const stale = await get('/openapi/v3/apis/apps/v1?hash=0123');
    expect(stale.status).toBe(301);
    expect(stale.headers.get('location')).toBe(url);
    expect((await get('/openapi/v3/apis/nope/v1')).status).toBe(404);
    expect((await get('/openapi/v3/api/v1', { Accept: 'application/com.github.proto-openapi.spec.v3.v1.0+protobuf' })).status).toBe(406);
    expect((await get('/openapi/v4')).status).toBe(418);
  });

  test('/openapi/v2 answers JSON by default and protobuf only with an encoder', async () => {
    const json = await get('/openapi/v2');
    expect(json.headers.get('content-type')).toBe('application/json');
    expect(((await json.json()) as { swagger: string }).swagger).toBe('2.0');
    const proto = await get('/openapi/v2', { Accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' });
    if (existsSync(new URL('../../openapi/v2-protobuf.ts', import.meta.url))) {
      expect(proto.status).toBe(200);
      expect(proto.headers.get('content-type')).toBe('application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    } else {
      expect(proto.status).toBe(406);
    }
  });
});
