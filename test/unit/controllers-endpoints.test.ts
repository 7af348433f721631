import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { endpointSubsets, endpointsLabels, truncateSubsets } from '../../controllers/endpoints.js';
import { findPort, hasSelector } from '../../controllers/endpoints-utils.js';
import { desiredSlices, planSlices, sliceLabels } from '../../controllers/endpointslice.js';

const svc = (spec: Partial<Service['spec']> = {}, labels: Record<string, string> = {}): Service => ({
  metadata: { name: 'web', namespace: 'ns', uid: 's1', labels },
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }], ...spec },
});

function pod(name: string, ip: string | undefined, opts: { ready?: boolean; port?: number; terminating?: boolean; labels?: Record<string, string> } = {}): Pod {
  return {
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, labels: opts.labels ?? { app: 'web' }, ...(opts.terminating ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) },
    spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'x', ports: [{ name: 'http', containerPort: opts.port ?? 8080 }] }] },
    status: { phase: 'Running', ...(ip ? { podIP: ip } : {}), conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
  };
}

describe('endpoints subsets', () => {
  test('ready and not-ready addresses, named target ports resolved per pod', () => {
    const subsets = endpointSubsets(svc(), [pod('a', '10.0.0.2'), pod('b', '10.0.0.1', { ready: false }), pod('c', undefined), pod('d', '10.0.0.9', { labels: { app: 'other' } })]);
    expect(subsets).toEqual([
      {
        addresses: [{ ip: '10.0.0.2', nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'ns', name: 'a', uid: 'uid-a' } }],
        notReadyAddresses: [{ ip: '10.0.0.1', nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'ns', name: 'b', uid: 'uid-b' } }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ]);
  });

  test('pods serving the named port on different numbers land in different subsets', () => {
    const subsets = endpointSubsets(svc(), [pod('a', '10.0.0.1'), pod('b', '10.0.0.2', { port: 9090 })]);
    expect(subsets.map((s) => [s.addresses?.map((a) => a.ip), s.ports?.[0].port])).toEqual([
      [['10.0.0.1'], 8080],
      [['10.0.0.2'], 9090],
    ]);
  });

  test('publishNotReadyAddresses puts not-ready and terminating pods among the ready', () => {
    const subsets = endpointSubsets(svc({ publishNotReadyAddresses: true }), [pod('a', '10.0.0.1', { ready: false }), pod('b', '10.0.0.2', { terminating: true })]);
    expect(subsets[0].addresses?.map((a) => a.ip)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(subsets[0].notReadyAddresses).toBeUndefined();
    expect(endpointSubsets(svc(), [pod('b', '10.0.0.2', { terminating: true })])).toEqual([]);
  });

  test('headless services without ports list bare addresses with hostnames; labels mark headless', () => {
    const headless = svc({ clusterIP: 'None', ports: [] }, { team: 'x' });
    const p = pod('db-0', '10.0.0.5');
    const withHost = { ...p, spec: { ...p.spec!, hostname: 'db-0', subdomain: 'web' } };
    expect(endpointSubsets(headless, [withHost])).toEqual([{ addresses: [expect.objectContaining({ ip: '10.0.0.5', hostname: 'db-0' })] }]);
    expect(endpointsLabels(headless)).toEqual({ team: 'x', 'service.kubernetes.io/headless': '' });
  });

  test('more than the capacity keeps ready addresses first', () => {
    const pods = [pod('a', '10.0.0.1', { ready: false }), pod('b', '10.0.0.2'), pod('c', '10.0.0.3'), pod('d', '10.0.0.4', { ready: false })];
    const subsets = endpointSubsets(svc(), pods);
    expect(truncateSubsets(subsets, 3)).toBe(true);
    expect(subsets[0].addresses?.map((a) => a.ip)).toEqual(['10.0.0.2', '10.0.0.3']);
    expect(subsets[0].notReadyAddresses?.map((a) => a.ip)).toEqual(['10.0.0.1']);
    expect(truncateSubsets(subsets, 3)).toBe(false);
  });

  test('services without selectors are left alone; numeric target ports pass through', () => {
    expect(hasSelector(svc({ selector: undefined }))).toBe(false);
    expect(findPort(pod('a', '1.1.1.1'), { port: 80, targetPort: 3000 })).toBe(3000);
    expect(findPort(pod('a', '1.1.1.1'), { port: 80 })).toBe(80);
    expect(findPort(pod('a', '1.1.1.1'), { port: 80, targetPort: 'nope' })).toBeUndefined();
  });
});

describe('endpoint slices', () => {
  test('endpoints carry ready/serving/terminating conditions, node and target', () => {
    const [slice] = desiredSlices(svc(), [pod('a', '10.0.0.1'), pod('b', '10.0.0.2', { ready: false }), pod('c', '10.0.0.3', { terminating: true }), pod('d', undefined)]);
    expect(slice.addressType).toBe('IPv4');
    expect(slice.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(slice.endpoints.map((e) => [e.addresses[0], e.conditions])).toEqual([
      ['10.0.0.1', { ready: true, serving: true, terminating: false }],
      ['10.0.0.2', { ready: false, serving: false, terminating: false }],
      ['10.0.0.3', { ready: false, serving: true, terminating: true }],
    ]);
    expect(slice.endpoints[0]).toMatchObject({ nodeName: 'node-1', targetRef: { kind: 'Pod', name: 'a' } });
    const [zoned] = desiredSlices(svc(), [pod('a', '10.0.0.1')], (n) => (n === 'node-1' ? 'z1' : undefined));
    expect(zoned.endpoints[0].zone).toBe('z1');
  });

  test('at most 100 endpoints per slice; an empty service keeps a placeholder', () => {
    const pods = Array.from({ length: 150 }, (_, i) => pod(`p${i}`, `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`));
    expect(desiredSlices(svc(), pods).map((s) => s.endpoints.length)).toEqual([100, 50]);
    expect(desiredSlices(svc(), [])).toEqual([{ addressType: 'IPv4', ports: [], endpoints: [] }]);
  });

  test('labels name the service and the manager', () => {
    expect(sliceLabels(svc({ clusterIP: 'None' }, { team: 'x' }))).toEqual({
      team: 'x',
      'service.kubernetes.io/headless': '',
      'kubernetes.io/service-name': 'web',
      'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
    });
  });

  test('reconciling reuses matching slices, updates changed ones and removes the rest', () => {
    const labels = sliceLabels(svc());
    const desired = desiredSlices(svc(), [pod('a', '10.0.0.1')]);
    const same: EndpointSlice = { metadata: { name: 'web-aaa', labels }, addressType: 'IPv4', ports: desired[0].ports, endpoints: desired[0].endpoints };
    expect(planSlices([same], desired, labels)).toEqual({ create: [], update: [], remove: [] });
    const stale: EndpointSlice = { ...same, endpoints: [] };
    const other: EndpointSlice = { metadata: { name: 'web-bbb', labels }, addressType: 'IPv4', ports: [{ name: 'x', port: 1 }], endpoints: [] };
    const plan = planSlices([stale, other], desired, labels);
    expect(plan.update.map((u) => u.slice.metadata?.name)).toEqual(['web-aaa']);
    expect(plan.remove.map((s) => s.metadata?.name)).toEqual(['web-bbb']);
    expect(planSlices([], desired, labels).create).toHaveLength(1);
  });
});
