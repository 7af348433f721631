// The Ingress route table: class selection, host and path precedence, default backends and
// merging across Ingresses, all on plain objects.
import type { HTTPIngressPath, Ingress, IngressClass, IngressRule } from 'kubernetes-types/networking/v1.js';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { resolveBackend } from '../../node-agent/ingress/proxy.js';
import { buildRouteTable, classSelection, isOurIngress, matchRoute, tlsSecretFor } from '../../node-agent/ingress/routing.js';
import { MemoryStore } from '../support/memory-store.js';

const CONTROLLER = 'podium.io/ingress-controller';

function ingress(name: string, spec: Ingress['spec'], meta: { annotations?: Record<string, string>; created?: string; namespace?: string } = {}): Ingress {
  return {
    metadata: { name, namespace: meta.namespace ?? 'default', annotations: meta.annotations, creationTimestamp: meta.created ?? '2026-01-01T00:00:00Z' },
    spec,
  };
}

const path = (p: string, svc: string, pathType: HTTPIngressPath['pathType'] = 'Prefix', port = 80): HTTPIngressPath => ({
  path: p,
  pathType,
  backend: { service: { name: svc, port: { number: port } } },
});
const rule = (host: string | undefined, ...paths: HTTPIngressPath[]): IngressRule => ({ host, http: { paths } });

const podiumClass = (isDefault: boolean): IngressClass => ({
  metadata: { name: 'podium', annotations: isDefault ? { 'ingressclass.kubernetes.io/is-default-class': 'true' } : {} },
  spec: { controller: CONTROLLER },
});

const allOurs = classSelection('podium', CONTROLLER, [podiumClass(true)]);
const svcOf = (table: ReturnType<typeof buildRouteTable>, host: string | undefined, p: string): string | undefined => matchRoute(table, host, p)?.service.name;

describe('class selection', () => {
  const explicit = ingress('explicit', { ingressClassName: 'podium' });
  const unclassed = ingress('unclassed', {});
  const legacy = ingress('legacy', {}, { annotations: { 'kubernetes.io/ingress.class': 'podium' } });
  const other = ingress('other', { ingressClassName: 'nginx' });
  const otherLegacy = ingress('other-legacy', {}, { annotations: { 'kubernetes.io/ingress.class': 'nginx' } });

  test('explicit class name, legacy annotation and (when default) no class are ours; other classes are not', () => {
    expect(isOurIngress(explicit, allOurs)).toBe(true);
    expect(isOurIngress(legacy, allOurs)).toBe(true);
    expect(isOurIngress(unclassed, allOurs)).toBe(true);
    expect(isOurIngress(other, allOurs)).toBe(false);
    expect(isOurIngress(otherLegacy, allOurs)).toBe(false);
  });

  test('an unclassed Ingress is not ours when our class is not the default', () => {
    const sel = classSelection('podium', CONTROLLER, [podiumClass(false)]);
    expect(isOurIngress(unclassed, sel)).toBe(false);
    expect(isOurIngress(explicit, sel)).toBe(true);
    // Before the IngressClass object is seen at all, the name alone still counts.
    const none = classSelection('podium', CONTROLLER, []);
    expect(isOurIngress(explicit, none)).toBe(true);
    expect(isOurIngress(unclassed, none)).toBe(false);
  });

  test('another class whose spec.controller is ours is served too; another controller\'s default is not ours', () => {
    const sel = classSelection('podium', CONTROLLER, [
      podiumClass(false),
      { metadata: { name: 'alias' }, spec: { controller: CONTROLLER } },
      { metadata: { name: 'nginx', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }, spec: { controller: 'k8s.io/ingress-nginx' } },
    ]);
    expect(isOurIngress(ingress('a', { ingressClassName: 'alias' }), sel)).toBe(true);
    expect(isOurIngress(unclassed, sel)).toBe(false);
  });

  test('Ingresses of other classes do not enter the route table', () => {
    const table = buildRouteTable([ingress('other', { ingressClassName: 'nginx', rules: [rule('a.example.com', path('/', 'nginx-svc'))] })], allOurs);
    expect(matchRoute(table, 'a.example.com', '/')).toBeUndefined();
  });
});

describe('hosts', () => {
  const table = buildRouteTable(
    [
      ingress('hosts', {
        rules: [rule('foo.example.com', path('/', 'exact-host')), rule('*.example.com', path('/', 'wildcard')), rule(undefined, path('/', 'any-host'))],
      }),
    ],
    allOurs,
  );

  test('exact host beats wildcard beats no host', () => {
    expect(svcOf(table, 'foo.example.com', '/')).toBe('exact-host');
    expect(svcOf(table, 'bar.example.com', '/')).toBe('wildcard');
    expect(svcOf(table, 'elsewhere.test', '/')).toBe('any-host');
    expect(svcOf(table, undefined, '/')).toBe('any-host');
  });

  test('a wildcard matches exactly one label', () => {
    expect(svcOf(table, 'a.b.example.com', '/')).toBe('any-host');
    expect(svcOf(table, 'example.com', '/')).toBe('any-host');
  });

  test('the Host header is matched without port and case-insensitively', () => {
    expect(svcOf(table, 'FOO.Example.com:8080', '/x')).toBe('exact-host');
    expect(svcOf(table, 'bar.example.com.', '/')).toBe('wildcard');
  });

  test('without host-less rules an unknown host has no route', () => {
    const t = buildRouteTable([ingress('one', { rules: [rule('foo.example.com', path('/', 'svc'))] })], allOurs);
    expect(matchRoute(t, 'nope.example.com', '/')).toBeUndefined();
  });
});

describe('paths', () => {
  test('Exact matches only the identical path, and beats a Prefix', () => {
    const t = buildRouteTable([ingress('p', { rules: [rule('h', path('/foo', 'exact', 'Exact'), path('/foo', 'prefix', 'Prefix'))] })], allOurs);
    expect(svcOf(t, 'h', '/foo')).toBe('exact');
    expect(svcOf(t, 'h', '/foo?x=1')).toBe('exact');
    expect(svcOf(t, 'h', '/foo/')).toBe('prefix');
    expect(svcOf(t, 'h', '/foo/bar')).toBe('prefix');
    const onlyExact = buildRouteTable([ingress('p', { rules: [rule('h', path('/foo', 'exact', 'Exact'))] })], allOurs);
    expect(svcOf(onlyExact, 'h', '/foo/')).toBeUndefined();
    expect(svcOf(onlyExact, 'h', '/FOO')).toBeUndefined();
  });

  test('Prefix matches element by element and ignores a trailing slash in the rule', () => {
    const t = buildRouteTable([ingress('p', { rules: [rule('h', path('/foo/', 'foo'))] })], allOurs);
    expect(svcOf(t, 'h', '/foo')).toBe('foo');
    expect(svcOf(t, 'h', '/foo/')).toBe('foo');
    expect(svcOf(t, 'h', '/foo/bar')).toBe('foo');
    expect(svcOf(t, 'h', '/foobar')).toBeUndefined();
    expect(svcOf(t, 'h', '/')).toBeUndefined();
  });

  test('the longest matching prefix wins; "/" catches the rest; ImplementationSpecific acts as Prefix', () => {
    const t = buildRouteTable(
      [ingress('p', { rules: [rule('h', path('/', 'root'), path('/a', 'a'), path('/a/b', 'ab', 'ImplementationSpecific'))] })],
      allOurs,
    );
    expect(svcOf(t, 'h', '/a/b/c')).toBe('ab');
    expect(svcOf(t, 'h', '/a/b')).toBe('ab');
    expect(svcOf(t, 'h', '/a/bc')).toBe('a');
    expect(svcOf(t, 'h', '/a')).toBe('a');
    expect(svcOf(t, 'h', '/ab')).toBe('root');
    expect(svcOf(t, 'h', '/')).toBe('root');
  });

  test('the backend carries the Ingress namespace and the port by number or name', () => {
    const t = buildRouteTable(
      [ingress('p', { rules: [rule('h', { path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { name: 'http' } } } })] }, { namespace: 'shop' })],
      allOurs,
    );
    expect(matchRoute(t, 'h', '/')).toEqual({ namespace: 'shop', ingress: 'shop/p', service: { name: 'web', port: { name: 'http' } } });
  });

  test('a resource backend is no route', () => {
    const t = buildRouteTable(
      [ingress('p', { defaultBackend: path('/', 'fallback').backend, rules: [rule('h', { path: '/static', pathType: 'Prefix', backend: { resource: { kind: 'StorageBucket', name: 'b' } } })] })],
      allOurs,
    );
    expect(matchRoute(t, 'h', '/static/x')).toBeUndefined();
    expect(svcOf(t, 'h', '/other')).toBe('fallback');
  });
});

describe('default backend and merging', () => {
  test('spec.defaultBackend serves what no rule matches; the oldest Ingress with one wins', () => {
    const t = buildRouteTable(
      [
        ingress('newer', { defaultBackend: path('/', 'newer-default').backend }, { created: '2026-01-02T00:00:00Z' }),
        ingress('older', { defaultBackend: path('/', 'older-default').backend, rules: [rule('h', path('/app', 'app'))] }, { created: '2026-01-01T00:00:00Z' }),
      ],
      allOurs,
    );
    expect(svcOf(t, 'h', '/app')).toBe('app');
    expect(svcOf(t, 'h', '/other')).toBe('older-default');
    expect(svcOf(t, 'unknown', '/')).toBe('older-default');
  });

  test('rules for one host merge across Ingresses; the oldest wins a conflicting path', () => {
    const t = buildRouteTable(
      [
        ingress('b', { rules: [rule('shop.example.com', path('/api', 'api-new'), path('/cart', 'cart'))] }, { created: '2026-01-03T00:00:00Z' }),
        ingress('a', { rules: [rule('shop.example.com', path('/api/', 'api-old'), path('/', 'web'))] }, { created: '2026-01-01T00:00:00Z' }),
      ],
      allOurs,
    );
    expect(svcOf(t, 'shop.example.com', '/cart/1')).toBe('cart');
    expect(svcOf(t, 'shop.example.com', '/api/x')).toBe('api-old');
    expect(svcOf(t, 'shop.example.com', '/')).toBe('web');
  });

  test('TLS secrets are picked by exact host before a wildcard', () => {
    const t = buildRouteTable(
      [
        ingress('w', { tls: [{ hosts: ['*.example.com'], secretName: 'wild' }] }, { created: '2026-01-01T00:00:00Z' }),
        ingress('e', { tls: [{ hosts: ['foo.example.com'], secretName: 'foo' }] }, { created: '2026-01-02T00:00:00Z', namespace: 'ns' }),
      ],
      allOurs,
    );
    expect(tlsSecretFor(t, 'foo.example.com')).toEqual({ namespace: 'ns', secretName: 'foo' });
    expect(tlsSecretFor(t, 'bar.example.com')).toEqual({ namespace: 'default', secretName: 'wild' });
    expect(tlsSecretFor(t, 'a.b.example.com')).toBeUndefined();
  });
});


describe('resolving a Service backend to endpoints', () => {
  const services = new MemoryStore<Service>([
    { metadata: { name: 'web', namespace: 'shop' }, spec: { clusterIP: 'None', ports: [{ name: 'http', port: 80 }, { name: 'admin', port: 9000 }] } },
    { metadata: { name: 'single', namespace: 'shop' }, spec: { ports: [{ port: 8080 }] } },
    { metadata: { name: 'ext', namespace: 'shop' }, spec: { type: 'ExternalName', externalName: 'example.com' } },
  ]);
  const slice = (name: string, svc: string, ports: EndpointSlice['ports'], endpoints: EndpointSlice['endpoints'], ns = 'shop'): EndpointSlice => ({
    metadata: { name, namespace: ns, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    ports,
    endpoints,
  });
  const endpointSlices = new MemoryStore<EndpointSlice>([
    slice('web-1', 'web', [{ name: 'http', port: 8080 }, { name: 'admin', port: 9090 }], [
      { addresses: ['10.244.0.5'], conditions: { ready: true } },
      { addresses: ['10.244.0.6'], conditions: { ready: false } },
      { addresses: ['10.244.0.7'] },
    ]),
    slice('web-2', 'web', [{ name: 'http', port: 8080 }], [{ addresses: ['10.244.0.8'], conditions: { ready: true } }, { addresses: ['10.244.0.5'] }]),
    slice('web-other-ns', 'web', [{ name: 'http', port: 8080 }], [{ addresses: ['10.244.9.9'] }], 'elsewhere'),
    slice('single-1', 'single', [{ port: 3000 }], [{ addresses: ['10.244.0.9'] }]),
  ]);
  const target = (name: string, port: { number?: number; name?: string }) => ({ namespace: 'shop', ingress: 'shop/i', service: { name, port } });
  const ips = (r: ReturnType<typeof resolveBackend>) => (r.ok ? r.endpoints.map((e) => `${e.ip}:${e.port}`).sort() : r.reason);

  test('the service port (by number or name) picks the slice port of the same name; only ready endpoints, deduplicated', () => {
    expect(ips(resolveBackend({ services, endpointSlices }, target('web', { number: 80 })))).toEqual(['10.244.0.5:8080', '10.244.0.7:8080', '10.244.0.8:8080']);
    expect(ips(resolveBackend({ services, endpointSlices }, target('web', { name: 'admin' })))).toEqual(['10.244.0.5:9090', '10.244.0.7:9090']);
    expect(ips(resolveBackend({ services, endpointSlices }, target('single', { number: 8080 })))).toEqual(['10.244.0.9:3000']);
  });

  test('a missing service, port or endpoints, and ExternalName services, do not resolve', () => {
    expect(resolveBackend({ services, endpointSlices }, target('nope', { number: 80 })).ok).toBe(false);
    expect(resolveBackend({ services, endpointSlices }, target('web', { number: 81 })).ok).toBe(false);
    expect(resolveBackend({ services, endpointSlices }, target('web', { name: 'grpc' })).ok).toBe(false);
    expect(resolveBackend({ services, endpointSlices }, target('ext', { number: 80 })).ok).toBe(false);
    const empty = new MemoryStore<EndpointSlice>([]);
    expect(resolveBackend({ services, endpointSlices: empty }, target('single', { number: 8080 })).ok).toBe(false);
  });
});
