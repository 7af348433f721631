// The Ingress route table: which Ingresses are ours, and for a request's host and path which
// Service backend serves it. Pure, so the proxy and the tests share one definition of the
// matching rules (networking.k8s.io/v1 semantics, ingress-nginx-like precedence).
import type { Ingress, IngressBackend, IngressClass, ServiceBackendPort } from 'kubernetes-types/networking/v1.js';

export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

/** Which Ingresses a controller serves: the class names it owns and whether one of them is the default. */
export interface ClassSelection {
  classNames: Set<string>;
  isDefault: boolean;
}

/**
 * Our classes are the one named `className` plus any IngressClass whose spec.controller is
 * ours (upstream binds an Ingress to a controller through its class's spec.controller).
 */
export function classSelection(className: string, controllerName: string, ingressClasses: IngressClass[]): ClassSelection {
  const classNames = new Set<string>([className]);
  let isDefault = false;
  for (const ic of ingressClasses) {
    const name = ic.metadata?.name;
    if (!name) continue;
    const mine = name === className || ic.spec?.controller === controllerName;
    if (!mine) continue;
    classNames.add(name);
    if (ic.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true') isDefault = true;
  }
  return { classNames, isDefault };
}

export function isOurIngress(ing: Ingress, sel: ClassSelection): boolean {
  const explicit = ing.spec?.ingressClassName;
  const legacy = ing.metadata?.annotations?.[LEGACY_CLASS_ANNOTATION];
  if (explicit && sel.classNames.has(explicit)) return true;
  if (legacy && sel.classNames.has(legacy)) return true;
  // Only an Ingress that names no class at all falls to the default class.
  return !explicit && !legacy && sel.isDefault;
}

export interface ServiceBackendTarget {
  namespace: string;
  /** `namespace/name` of the Ingress the route came from. */
  ingress: string;
  service: { name: string; port: ServiceBackendPort };
}

type PathType = 'Exact' | 'Prefix';

interface PathRoute {
  pathType: PathType;
  /** Exact: the path as written; Prefix: its non-empty elements. */
  path: string;
  elements: string[];
  /** Undefined for a resource backend: it matches, and then answers "no route". */
  target?: ServiceBackendTarget;
}

interface HostRoutes {
  paths: PathRoute[];
}

export interface RouteTable {
  exact: Map<string, HostRoutes>;
  /** Keyed by the suffix after `*.` (e.g. `example.com`). */
  wildcard: Map<string, HostRoutes>;
  /** Rules without a host. */
  any?: HostRoutes;
  defaultBackend?: ServiceBackendTarget;
  /** The Ingresses the table was built from (ours), oldest first. */
  ingresses: Ingress[];
}

const keyOf = (ing: Ingress): string => `${ing.metadata?.namespace ?? ''}/${ing.metadata?.name ?? ''}`;

function byAge(a: Ingress, b: Ingress): number {
  const ta = a.metadata?.creationTimestamp ?? '';
  const tb = b.metadata?.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = keyOf(a);
  const kb = keyOf(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function toTarget(ing: Ingress, backend: IngressBackend | undefined): ServiceBackendTarget | undefined {
  const svc = backend?.service;
  if (!svc?.name || !svc.port) return undefined;
  return { namespace: ing.metadata?.namespace ?? 'default', ingress: keyOf(ing), service: { name: svc.name, port: svc.port } };
}

const pathElements = (p: string): string[] => p.split('/').filter((e) => e !== '');

export function normalizeHost(host: string | undefined): string {
  if (!host) return '';
  let h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    // An IPv6 literal keeps its colons; only a port after the bracket goes.
    const end = h.indexOf(']');
    return end >= 0 ? h.slice(0, end + 1) : h;
  }
  const colon = h.indexOf(':');
  if (colon >= 0) h = h.slice(0, colon);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

export function buildRouteTable(ingresses: Ingress[], sel: ClassSelection): RouteTable {
  const ours = ingresses.filter((i) => isOurIngress(i, sel) && !i.metadata?.deletionTimestamp).sort(byAge);
  const table: RouteTable = { exact: new Map(), wildcard: new Map(), ingresses: ours };
  // Since Ingresses are visited oldest first, the first to claim a (host, type, path) keeps it.
  const claimed = new Set<string>();
  for (const ing of ours) {
    if (!table.defaultBackend && ing.spec?.defaultBackend) {
      const t = toTarget(ing, ing.spec.defaultBackend);
      if (t) table.defaultBackend = t;
    }
    for (const rule of ing.spec?.rules ?? []) {
      const host = normalizeHost(rule.host);
      let group: HostRoutes;
      if (!host) group = table.any ??= { paths: [] };
      else if (host.startsWith('*.')) {
        const suffix = host.slice(2);
        group = table.wildcard.get(suffix) ?? { paths: [] };
        table.wildcard.set(suffix, group);
      } else {
        group = table.exact.get(host) ?? { paths: [] };
        table.exact.set(host, group);
      }
      for (const p of rule.http?.paths ?? []) {
        const pathType: PathType = p.pathType === 'Exact' ? 'Exact' : 'Prefix';
        const raw = p.path || '/';
        const elements = pathElements(raw);
        const norm = pathType === 'Exact' ? raw : '/' + elements.join('/');
        const claim = `${host}\u0000${pathType}\u0000${norm}`;
        if (claimed.has(claim)) continue;
        claimed.add(claim);
        group.paths.push({ pathType, path: norm, elements, target: toTarget(ing, p.backend) });
      }
    }
  }
  const order = (a: PathRoute, b: PathRoute): number => {
    if (a.pathType !== b.pathType) return a.pathType === 'Exact' ? -1 : 1;
    if (a.elements.length !== b.elements.length) return b.elements.length - a.elements.length;
    return b.path.length - a.path.length;
  };
  for (const g of [...table.exact.values(), ...table.wildcard.values(), ...(table.any ? [table.any] : [])]) g.paths.sort(order);
  return table;
}

function matchesPath(route: PathRoute, path: string, requestElements: string[]): boolean {
  if (route.pathType === 'Exact') return route.path === path;
  if (route.elements.length > requestElements.length) return false;
  for (let i = 0; i < route.elements.length; i++) if (route.elements[i] !== requestElements[i]) return false;
  return true;
}

/** The host group serving `host`: exact beats wildcard (one label) beats the host-less rules. */
function hostGroup(table: RouteTable, host: string): HostRoutes | undefined {
  const exact = table.exact.get(host);
  if (exact) return exact;
  const dot = host.indexOf('.');
  if (dot > 0) {
    const wild = table.wildcard.get(host.slice(dot + 1));
    if (wild) return wild;
  }
  return table.any;
}

/**
 * The backend for a request, or undefined for "no route" (404). `path` may carry a query
 * string; only the path part takes part in matching.
 */
export function matchRoute(table: RouteTable, host: string | undefined, path: string): ServiceBackendTarget | undefined {
  const q = path.indexOf('?');
  const p = q >= 0 ? path.slice(0, q) : path || '/';
  const group = hostGroup(table, normalizeHost(host));
  if (group) {
    const elements = pathElements(p);
    const hit = group.paths.find((r) => matchesPath(r, p, elements));
    if (hit) return hit.target;
  }
  return table.defaultBackend;
}

/** Hosts of the TLS sections of our Ingresses, exact first, for picking a certificate by SNI. */
export function tlsSecretFor(table: RouteTable, serverName: string): { namespace: string; secretName: string } | undefined {
  const host = normalizeHost(serverName);
  let wildcard: { namespace: string; secretName: string } | undefined;
  for (const ing of table.ingresses) {
    for (const t of ing.spec?.tls ?? []) {
      if (!t.secretName) continue;
      for (const h of t.hosts ?? []) {
        const n = normalizeHost(h);
        const ref = { namespace: ing.metadata?.namespace ?? 'default', secretName: t.secretName };
        if (n === host) return ref;
        if (!wildcard && n.startsWith('*.')) {
          const dot = host.indexOf('.');
          if (dot > 0 && host.slice(dot + 1) === n.slice(2)) wildcard = ref;
        }
      }
    }
  }
  return wildcard;
}
