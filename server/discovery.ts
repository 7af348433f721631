// Discovery documents, all derived from the registry: legacy (/api, /apis, APIResourceList per
// group version) and aggregated (apidiscovery.k8s.io v2 and v2beta1, chosen by Accept).
import type { ResourceDefinition } from './registry/types.js';
import { ALL_VERBS } from './registry/types.js';
import type { Registry } from './generic/registry.js';

interface SubresourceInfo { name: string; kind: string; group?: string; version?: string; verbs: string[] }

/** Subresources beyond status and scale, as upstream serves them (by group/plural). */
const EXTRA_SUBRESOURCES: Record<string, SubresourceInfo[]> = {
  '/pods': [
    { name: 'attach', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
    { name: 'binding', kind: 'Binding', verbs: ['create'] },
    { name: 'eviction', kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] },
    { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
    { name: 'log', kind: 'Pod', verbs: ['get'] },
    { name: 'portforward', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
  ],
  '/namespaces': [{ name: 'finalize', kind: 'Namespace', verbs: ['update'] }],
  'certificates.k8s.io/certificatesigningrequests': [{ name: 'approval', kind: 'CertificateSigningRequest', verbs: ['get', 'patch', 'update'] }],
  '/serviceaccounts': [{ name: 'token', kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] }],
};

function subresourcesOf(def: ResourceDefinition): SubresourceInfo[] {
  const out: SubresourceInfo[] = [...(EXTRA_SUBRESOURCES[`${def.group}/${def.plural}`] ?? [])];
  if (def.subresources?.scale) out.push({ name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] });
  if (def.subresources?.status) out.push({ name: 'status', kind: def.kind, verbs: ['get', 'patch', 'update'] });
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

const verbsOf = (def: ResourceDefinition) => def.verbs ?? ALL_VERBS;

export function apiResourceList(registry: Registry, group: string, version: string): Record<string, unknown> {
  const resources: Record<string, unknown>[] = [];
  for (const def of registry.definitions.filter((d) => d.group === group && d.version === version)) {
    const entry: Record<string, unknown> = { name: def.plural, singularName: def.singular, namespaced: def.namespaced, kind: def.kind, verbs: verbsOf(def) };
    if (def.shortNames?.length) entry.shortNames = def.shortNames;
    if (def.categories?.length) entry.categories = def.categories;
    resources.push(entry);
    for (const s of subresourcesOf(def)) {
      const sub: Record<string, unknown> = { name: `${def.plural}/${s.name}`, singularName: '', namespaced: def.namespaced, kind: s.kind, verbs: s.verbs };
      if (s.group !== undefined) { sub.group = s.group; sub.version = s.version; }
      resources.push(sub);
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

export function apiGroup(registry: Registry, group: string): Record<string, unknown> | undefined {
  const gv = registry.groupVersions().find((g) => g.group === group);
  if (!gv || !group) return undefined;
  const versions = gv.versions.map((v) => ({ groupVersion: `${group}/${v}`, version: v }));
  return { kind: 'APIGroup', apiVersion: 'v1', name: group, versions, preferredVersion: versions[0] };
}

export function apiGroupList(registry: Registry): Record<string, unknown> {
  const groups = registry.groupVersions().filter((g) => g.group !== '').map((g) => apiGroup(registry, g.group));
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

/** Which aggregated discovery version the Accept header asks for, if any (v2 preferred). */
export function aggregatedVersion(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  for (const part of (accept ?? '').split(',')) {
    if (!/g=apidiscovery\.k8s\.io/.test(part) || !/as=APIGroupDiscoveryList/.test(part)) continue;
    if (/v=v2beta1/.test(part)) return 'v2beta1';
    if (/v=v2(;|$|\s)/.test(part)) return 'v2';
  }
  return undefined;
}

export const aggregatedContentType = (v: 'v2' | 'v2beta1') => `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`;

function discoveryResource(def: ResourceDefinition): Record<string, unknown> {
  const r: Record<string, unknown> = {
    resource: def.plural,
    responseKind: { group: def.group, version: def.version, kind: def.kind },
    scope: def.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: def.singular,
    verbs: verbsOf(def),
  };
  if (def.shortNames?.length) r.shortNames = def.shortNames;
  if (def.categories?.length) r.categories = def.categories;
  const subs = subresourcesOf(def);
  if (subs.length) {
    r.subresources = subs.map((s) => ({ subresource: s.name, responseKind: { group: s.group ?? def.group, version: s.version ?? def.version, kind: s.kind }, verbs: s.verbs }));
  }
  return r;
}

/** /api (core only) or /apis (every named group) as an APIGroupDiscoveryList. */
export function aggregatedDiscovery(registry: Registry, legacy: boolean, version: 'v2' | 'v2beta1'): Record<string, unknown> {
  const items = registry.groupVersions().filter((g) => (legacy ? g.group === '' : g.group !== '')).map((g) => ({
    metadata: g.group ? { name: g.group, creationTimestamp: null } : { creationTimestamp: null },
    versions: g.versions.map((v) => ({
      version: v,
      resources: registry.definitions.filter((d) => d.group === g.group && d.version === v).map(discoveryResource),
      freshness: 'Current',
    })),
  }));
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items };
}
