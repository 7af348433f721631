// Checks the hand-written patch metadata table against upstream's OpenAPI document, for every
// definition reachable from the kinds Podium serves. The upstream document is used as an oracle
// only (read at test time, never copied into the project).
import { existsSync, readFileSync } from 'node:fs';
import { definition, definitionNameFor, reachableDefinitions } from '../../openapi/type-graph.js';
import { definitionMapType, fieldPatchMetadata, patchMetadataTable, type FieldPatchMetadata } from '../../openapi/patch-metadata.js';

const ORACLE = process.env.PODIUM_OPENAPI_ORACLE ?? '/work/shared/reference/kubernetes-openapi-v2.json';

const SERVED: [string, string, string[]][] = [
  ['', 'v1', ['Pod', 'Service', 'Endpoints', 'ConfigMap', 'Secret', 'Namespace', 'Node', 'Event', 'ServiceAccount',
    'PersistentVolumeClaim', 'PersistentVolume', 'ResourceQuota', 'LimitRange', 'PodTemplate']],
  ['apps', 'v1', ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'ControllerRevision']],
  ['batch', 'v1', ['Job', 'CronJob']],
  ['networking.k8s.io', 'v1', ['Ingress', 'IngressClass', 'NetworkPolicy']],
  ['coordination.k8s.io', 'v1', ['Lease']],
  ['discovery.k8s.io', 'v1', ['EndpointSlice']],
  ['events.k8s.io', 'v1', ['Event']],
  ['policy', 'v1', ['PodDisruptionBudget']],
  ['autoscaling', 'v1', ['HorizontalPodAutoscaler', 'Scale']],
  ['autoscaling', 'v2', ['HorizontalPodAutoscaler']],
  ['storage.k8s.io', 'v1', ['StorageClass']],
  ['rbac.authorization.k8s.io', 'v1', ['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding']],
  ['authentication.k8s.io', 'v1', ['TokenRequest', 'TokenReview', 'SelfSubjectReview']],
  ['authorization.k8s.io', 'v1', ['SelfSubjectAccessReview', 'SubjectAccessReview', 'LocalSubjectAccessReview', 'SelfSubjectRulesReview']],
  ['certificates.k8s.io', 'v1', ['CertificateSigningRequest']],
];

/**
 * Differences we keep on purpose, as `definition.field` (or `definition` for the definition's own
 * map type) -> why. Every entry must still be a difference, so the list cannot go stale.
 */
const INTENTIONAL: Record<string, string> = {};

interface OracleSchema {
  $ref?: string;
  items?: OracleSchema;
  additionalProperties?: OracleSchema;
  properties?: Record<string, OracleSchema>;
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-patch-merge-key'?: string;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: string;
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[];
}

function oracleFacts(s: OracleSchema): FieldPatchMetadata {
  const f: FieldPatchMetadata = {};
  if (s['x-kubernetes-patch-strategy']) f.patchStrategy = s['x-kubernetes-patch-strategy'] as FieldPatchMetadata['patchStrategy'];
  if (s['x-kubernetes-patch-merge-key']) f.patchMergeKey = s['x-kubernetes-patch-merge-key'];
  if (s['x-kubernetes-list-type']) f.listType = s['x-kubernetes-list-type'] as FieldPatchMetadata['listType'];
  if (s['x-kubernetes-list-map-keys']) f.listMapKeys = s['x-kubernetes-list-map-keys'];
  if (s['x-kubernetes-map-type']) f.mapType = s['x-kubernetes-map-type'] as FieldPatchMetadata['mapType'];
  return f;
}

function canonical(f: FieldPatchMetadata): string {
  return JSON.stringify({ s: f.patchStrategy, k: f.patchMergeKey, l: f.listType, lk: f.listMapKeys, m: f.mapType });
}

function oracleReachable(defs: Record<string, OracleSchema>, roots: string[]): Set<string> {
  const seen = new Set<string>();
  const stack = [...roots];
  const refs = (s: unknown): string[] => {
    if (!s || typeof s !== 'object') return [];
    if (Array.isArray(s)) return s.flatMap(refs);
    return Object.entries(s as Record<string, unknown>).flatMap(([k, v]) =>
      k === '$ref' && typeof v === 'string' ? [v.replace('#/definitions/', '')] : refs(v));
  };
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n) || !defs[n]) continue;
    seen.add(n);
    stack.push(...refs(defs[n]));
  }
  return seen;
}

const haveOracle = existsSync(ORACLE);
(haveOracle ? describe : describe.skip)('patch metadata vs upstream OpenAPI', () => {
  test('matches upstream for every definition reachable from the served kinds', () => {
    const oracle = JSON.parse(readFileSync(ORACLE, 'utf8')) as { definitions: Record<string, OracleSchema> };
    const defs = oracle.definitions;

    const roots: string[] = [];
    for (const [group, version, kinds] of SERVED) {
      for (const kind of kinds) {
        const name = definitionNameFor(group, version, kind);
        expect(name).toBeDefined();
        const inOracle = Object.entries(defs).find(([, d]) =>
          d['x-kubernetes-group-version-kind']?.some((g) => g.group === group && g.version === version && g.kind === kind));
        expect(inOracle?.[0]).toBe(name);
        roots.push(name!);
      }
    }

    const ours = reachableDefinitions(roots);
    const theirs = oracleReachable(defs, roots);
    const all = [...new Set([...ours, ...theirs])].sort();

    const differences: string[] = [];
    const intentionalSeen = new Set<string>();
    let compared = 0;
    let fieldCount = 0;
    let newerUpstream = 0;
    const report = (key: string, what: string) => {
      if (INTENTIONAL[key]) intentionalSeen.add(key);
      else differences.push(`${key}: ${what}`);
    };

    for (const name of all) {
      const graphDef = definition(name);
      const oracleDef = defs[name];
      if (!graphDef || !oracleDef) {
        // A definition only one side has: fine when upstream is newer than kubernetes-types, but
        // the table must not describe definitions that exist nowhere.
        if (!graphDef) newerUpstream++;
        continue;
      }
      compared++;
      const oursMap = definitionMapType(name);
      const theirsMap = oracleDef['x-kubernetes-map-type'];
      if (oursMap !== theirsMap) report(name, `map type ours=${oursMap} upstream=${theirsMap}`);

      const fieldNames = new Set([...Object.keys(graphDef.properties), ...Object.keys(oracleDef.properties ?? {})]);
      for (const field of fieldNames) {
        const inGraph = field in graphDef.properties;
        const inOracle = !!oracleDef.properties && field in oracleDef.properties;
        if (!inGraph) { newerUpstream++; continue; }
        fieldCount++;
        const o = canonical(fieldPatchMetadata(name, field));
        const t = canonical(inOracle ? oracleFacts(oracleDef.properties![field]) : {});
        if (o !== t) report(`${name}.${field}`, `ours=${o} upstream=${t}`);
      }
    }

    // The table must only name served definitions and fields the type graph knows.
    for (const [name, entry] of Object.entries(patchMetadataTable())) {
      if (!ours.has(name)) differences.push(`${name}: in the table but not reachable from a served kind`);
      for (const field of Object.keys(entry.fields)) {
        if (!definition(name)?.properties[field]) differences.push(`${name}.${field}: in the table but not in the type graph`);
      }
    }
    const stale = Object.keys(INTENTIONAL).filter((k) => !intentionalSeen.has(k));

    console.log(`patch metadata: ${compared} definitions compared, ${fieldCount} fields, ${differences.length} differences` +
      ` (${intentionalSeen.size} intentional, ${newerUpstream} upstream-only definitions/fields newer than kubernetes-types skipped)`);
    expect(differences).toEqual([]);
    expect(stale).toEqual([]);
  });
});
