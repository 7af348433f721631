// Tier 5 of the conformance subset: Services, Endpoints, EndpointSlices and the Ingress APIs,
// re-stated from upstream's test/e2e/network/{service,endpointslice,ingress}.go.
import { randomBytes } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';
import { IMAGE, core, discovery, kubectl, networking, startWatch, strategicMergePatch, mergePatch, useTestNamespace, waitFor, waitForPodReady } from './framework.js';

const ns = useTestNamespace('svc');
const rand = (): string => randomBytes(3).toString('hex');

async function apiGet<T>(path: string): Promise<T> {
  const r = await kubectl(['get', '--raw', path]);
  if (r.code !== 0) throw new Error(`GET ${path}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

function servingPod(name: string, labels: Record<string, string>, ports: k8s.V1ContainerPort[]): k8s.V1Pod {
  return {
    metadata: { name, labels },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'c', image: IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'mkdir -p /w && echo ok > /w/index.html && exec httpd -f -p 80 -h /w'], ports }],
    },
  };
}

test('[sig-network] Services should find a service from listing all namespaces', async () => {
  const list = await core().listServiceForAllNamespaces({});
  const found = list.items.some((s) => s.metadata?.namespace === 'default' && s.metadata?.name === 'kubernetes');
  expect(found).toBe(true);
});

test('[sig-network] Services should provide secure master service', async () => {
  const svc = await core().readNamespacedService({ namespace: 'default', name: 'kubernetes' });
  expect(svc.metadata?.name).toBe('kubernetes');
});

test('[sig-network] Services should complete a service status lifecycle', async () => {
  const namespace = ns.name;
  const name = `test-service-${rand()}`;
  const watch = await startWatch<k8s.V1Service>(`/api/v1/namespaces/${namespace}/services`, { labelSelector: 'test-service-static=true' });
  try {
    await core().createNamespacedService({
      namespace,
      body: { metadata: { name, labels: { 'test-service-static': 'true' } }, spec: { type: 'ClusterIP', ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 80 }] } },
    });
    await watch.waitForEvent((e) => e.type === 'ADDED' && e.object.metadata?.name === name);

    // Services list in the namespace holds it.
    const list = await core().listNamespacedService({ namespace, labelSelector: 'test-service-static=true' });
    expect(list.items.map((s) => s.metadata?.name)).toContain(name);

    // Patch the status subresource with a load-balancer ingress and an annotation.
    const patched = await core().patchNamespacedServiceStatus({
      namespace, name,
      body: { metadata: { annotations: { patchedstatus: 'true' } }, status: { loadBalancer: { ingress: [{ ip: '203.0.113.1' }] } } },
    }, strategicMergePatch);
    expect(patched.status?.loadBalancer?.ingress?.[0]?.ip).toBe('203.0.113.1');
    expect(patched.metadata?.annotations?.patchedstatus).toBe('true');
    await watch.waitForEvent((e) => e.type === 'MODIFIED' && e.object.metadata?.name === name && e.object.metadata?.annotations?.patchedstatus === 'true' && e.object.status?.loadBalancer?.ingress?.[0]?.ip === '203.0.113.1');

    // Get the status, then update it with a condition.
    const status = await core().readNamespacedServiceStatus({ namespace, name });
    expect(status.status?.loadBalancer?.ingress?.[0]?.ip).toBe('203.0.113.1');
    status.status = { ...status.status, conditions: [{ type: 'StatusUpdate', status: 'True', reason: 'E2E', message: 'Set from e2e test', lastTransitionTime: new Date() }] };
    const updated = await core().replaceNamespacedServiceStatus({ namespace, name, body: status });
    expect(updated.status?.conditions?.[0]?.type).toBe('StatusUpdate');
    await watch.waitForEvent((e) => e.type === 'MODIFIED' && e.object.metadata?.name === name && !!e.object.status?.conditions?.some((c) => c.type === 'StatusUpdate' && c.reason === 'E2E' && c.message === 'Set from e2e test'));

    // Patch the spec (labels and ports); watch sees it.
    const specPatched = await core().patchNamespacedService({
      namespace, name,
      body: { metadata: { labels: { 'test-service': 'patched' } }, spec: { ports: [{ name: 'http8080', port: 8080, protocol: 'TCP', targetPort: 8080 }] } },
    }, mergePatch);
    expect(specPatched.metadata?.labels?.['test-service']).toBe('patched');
    expect(specPatched.spec?.ports?.[0]?.port).toBe(8080);
    await watch.waitForEvent((e) => e.type === 'MODIFIED' && e.object.metadata?.name === name && e.object.metadata?.labels?.['test-service'] === 'patched');

    await core().deleteNamespacedService({ namespace, name });
    await watch.waitForEvent((e) => e.type === 'DELETED' && e.object.metadata?.name === name);
  } finally {
    watch.stop();
  }
});

test('[sig-network] Services should delete a collection of services', async () => {
  const namespace = ns.name;
  const label = { 'e2e-test-service': 'delete' };
  const names = ['a', 'b', 'c'].map((s) => `e2e-svc-${s}-${rand()}`);
  for (const name of names) {
    await core().createNamespacedService({ namespace, body: { metadata: { name, labels: label }, spec: { type: 'ClusterIP', ports: [{ name: 'http', protocol: 'TCP', port: 8000, targetPort: 8000 }] } } });
  }
  const keep = `e2e-svc-keep-${rand()}`;
  await core().createNamespacedService({ namespace, body: { metadata: { name: keep }, spec: { type: 'ClusterIP', ports: [{ name: 'http', protocol: 'TCP', port: 8000, targetPort: 8000 }] } } });
  const before = await core().listNamespacedService({ namespace, labelSelector: 'e2e-test-service=delete' });
  expect(before.items).toHaveLength(3);
  await core().deleteCollectionNamespacedService({ namespace, labelSelector: 'e2e-test-service=delete' });
  await waitFor('labelled services to be gone', async () => (await core().listNamespacedService({ namespace, labelSelector: 'e2e-test-service=delete' })).items.length === 0, 60_000);
  const rest = await core().listNamespacedService({ namespace });
  expect(rest.items.map((s) => s.metadata?.name)).toContain(keep);
  await core().deleteNamespacedService({ namespace, name: keep });
});

test('[sig-network] Services should test the lifecycle of an Endpoint', async () => {
  const namespace = ns.name;
  const name = 'testservice';
  const watch = await startWatch<k8s.V1Endpoints>(`/api/v1/namespaces/${namespace}/endpoints`, { labelSelector: 'test-endpoint-static=true' });
  try {
    await core().createNamespacedEndpoints({
      namespace,
      body: { metadata: { name, labels: { 'test-endpoint-static': 'true' } }, subsets: [{ addresses: [{ ip: '10.0.0.24' }], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }] },
    });
    await watch.waitForEvent((e) => e.type === 'ADDED' && e.object.metadata?.name === name);

    const all = await core().listEndpointsForAllNamespaces({ labelSelector: 'test-endpoint-static=true' });
    expect(all.items.some((e) => e.metadata?.namespace === namespace && e.metadata?.name === name)).toBe(true);

    // Update: add a label.
    const current = await core().readNamespacedEndpoints({ namespace, name });
    current.metadata!.labels = { ...current.metadata!.labels, 'test-service': 'updated' };
    const updated = await core().replaceNamespacedEndpoints({ namespace, name, body: current });
    expect(updated.metadata?.labels?.['test-service']).toBe('updated');
    await watch.waitForEvent((e) => e.type === 'MODIFIED' && e.object.metadata?.labels?.['test-service'] === 'updated');

    // Patch: labels, addresses and ports.
    await core().patchNamespacedEndpoints({
      namespace, name,
      body: { metadata: { labels: { 'test-service': 'patched' } }, subsets: [{ addresses: [{ ip: '10.0.0.25' }], ports: [{ name: 'http-test', port: 8080 }] }] },
    }, strategicMergePatch);
    await watch.waitForEvent((e) => e.type === 'MODIFIED' && e.object.metadata?.labels?.['test-service'] === 'patched');
    const got = await core().readNamespacedEndpoints({ namespace, name });
    expect(got.metadata?.labels?.['test-service']).toBe('patched');
    expect(got.subsets?.[0]?.addresses?.[0]?.ip).toBe('10.0.0.25');
    expect(got.subsets?.[0]?.ports?.[0]?.port).toBe(8080);
    expect(got.subsets?.[0]?.ports?.[0]?.name).toBe('http-test');

    // Delete by collection, seen as DELETED.
    await core().deleteCollectionNamespacedEndpoints({ namespace, labelSelector: 'test-endpoint-static=true' });
    await watch.waitForEvent((e) => e.type === 'DELETED' && e.object.metadata?.name === name);
    const after = await core().listNamespacedEndpoints({ namespace, labelSelector: 'test-endpoint-static=true' });
    expect(after.items).toHaveLength(0);
  } finally {
    watch.stop();
  }
});

/** Endpoints of `name` as {podName: ports}, from subsets' ready addresses. */
async function endpointPods(namespace: string, name: string): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  const ep = await core().readNamespacedEndpoints({ namespace, name }).catch(() => undefined);
  for (const s of ep?.subsets ?? []) {
    for (const a of s.addresses ?? []) {
      const pod = a.targetRef?.name ?? a.ip;
      out[pod] = [...(out[pod] ?? []), ...(s.ports ?? []).map((p) => p.port)].sort((x, y) => x - y);
    }
  }
  return out;
}

/** The same from the Service's EndpointSlices (ready endpoints). */
async function slicePods(namespace: string, name: string): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  const slices = await discovery().listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${name}` });
  for (const s of slices.items) {
    for (const e of s.endpoints ?? []) {
      if (e.conditions?.ready === false) continue;
      const pod = e.targetRef?.name ?? e.addresses[0];
      out[pod] = [...(out[pod] ?? []), ...(s.ports ?? []).map((p) => p.port ?? 0)].sort((x, y) => x - y);
    }
  }
  return out;
}

async function expectEndpoints(namespace: string, name: string, want: Record<string, number[]>): Promise<void> {
  const wantJson = JSON.stringify(Object.fromEntries(Object.entries(want).sort()));
  const norm = (o: Record<string, number[]>) => JSON.stringify(Object.fromEntries(Object.entries(o).sort()));
  await waitFor(`endpoints of ${name} to be ${wantJson}`, async () => norm(await endpointPods(namespace, name)) === wantJson && norm(await slicePods(namespace, name)) === wantJson, 120_000, 500);
}

test('[sig-network] Services should serve a basic endpoint from pods', async () => {
  const namespace = ns.name;
  const name = 'endpoint-test2';
  const labels = { 'name-label': `endpoint-test2-${rand()}` };
  await core().createNamespacedService({ namespace, body: { metadata: { name }, spec: { selector: labels, ports: [{ port: 80, targetPort: 80 }] } } });
  await expectEndpoints(namespace, name, {});

  await core().createNamespacedPod({ namespace, body: servingPod('pod1', labels, [{ containerPort: 80 }]) });
  await expectEndpoints(namespace, name, { pod1: [80] });

  await core().createNamespacedPod({ namespace, body: servingPod('pod2', labels, [{ containerPort: 80 }]) });
  await expectEndpoints(namespace, name, { pod1: [80], pod2: [80] });

  await core().deleteNamespacedPod({ namespace, name: 'pod1' });
  await expectEndpoints(namespace, name, { pod2: [80] });

  await core().deleteNamespacedPod({ namespace, name: 'pod2' });
  await expectEndpoints(namespace, name, {});
  await core().deleteNamespacedService({ namespace, name });
});

test('[sig-network] EndpointSlice should support creating EndpointSlice API operations', async () => {
  const namespace = ns.name;
  // Discovery.
  const groups = await apiGet<{ groups: { name: string; versions: { groupVersion: string }[] }[] }>('/apis');
  expect(groups.groups.find((g) => g.name === 'discovery.k8s.io')?.versions.map((v) => v.groupVersion)).toContain('discovery.k8s.io/v1');
  const resources = await apiGet<{ resources: { name: string }[] }>('/apis/discovery.k8s.io/v1');
  expect(resources.resources.map((r) => r.name)).toContain('endpointslices');

  const label = `e2e-es-${rand()}`;
  const slice = (n: string): k8s.V1EndpointSlice => ({
    metadata: { generateName: `${n}-`, labels: { 'special-label': label } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['1.2.3.4', '5.6.7.8'] }],
    ports: [{ name: 'http', protocol: 'TCP', port: 80 }],
  });
  const sel = `special-label=${label}`;
  const watch = await startWatch<k8s.V1EndpointSlice>(`/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`, { labelSelector: sel });
  try {
    const created = await discovery().createNamespacedEndpointSlice({ namespace, body: slice('e2e-example-ing') });
    await discovery().createNamespacedEndpointSlice({ namespace, body: slice('e2e-example-ing') });
    await discovery().createNamespacedEndpointSlice({ namespace, body: slice('e2e-example-ing') });
    const name = created.metadata!.name!;

    const got = await discovery().readNamespacedEndpointSlice({ namespace, name });
    expect(got.metadata?.uid).toBe(created.metadata?.uid);

    expect((await discovery().listEndpointSliceForAllNamespaces({ labelSelector: sel })).items).toHaveLength(3);
    expect((await discovery().listNamespacedEndpointSlice({ namespace, labelSelector: sel })).items).toHaveLength(3);

    await watch.waitForEvent((e) => e.type === 'ADDED' && e.object.metadata?.name === name);

    const patched = await discovery().patchNamespacedEndpointSlice({ namespace, name, body: { metadata: { annotations: { patched: 'true' } } } }, mergePatch);
    expect(patched.metadata?.annotations?.patched).toBe('true');
    await watch.waitForEvent((e) => e.type === 'MODIFIED' && e.object.metadata?.annotations?.patched === 'true');

    const cur = await discovery().readNamespacedEndpointSlice({ namespace, name });
    cur.metadata!.annotations = { ...cur.metadata!.annotations, updated: 'true' };
    const updated = await discovery().replaceNamespacedEndpointSlice({ namespace, name, body: cur });
    expect(updated.metadata?.annotations?.updated).toBe('true');

    await discovery().deleteNamespacedEndpointSlice({ namespace, name });
    await expect(discovery().readNamespacedEndpointSlice({ namespace, name })).rejects.toMatchObject({ code: 404 });
    await watch.waitForEvent((e) => e.type === 'DELETED' && e.object.metadata?.name === name);
    expect((await discovery().listNamespacedEndpointSlice({ namespace, labelSelector: sel })).items).toHaveLength(2);

    await discovery().deleteCollectionNamespacedEndpointSlice({ namespace, labelSelector: sel });
    await waitFor('endpointslices collection-deleted', async () => (await discovery().listNamespacedEndpointSlice({ namespace, labelSelector: sel })).items.length === 0);
  } finally {
    watch.stop();
  }
});

test('[sig-network] EndpointSlice should create Endpoints and EndpointSlices for Pods matching a Service', async () => {
  const namespace = ns.name;
  const ports: k8s.V1ContainerPort[] = [{ name: 'example-name', containerPort: 80 }];
  await core().createNamespacedPod({ namespace, body: servingPod('es-pod1', { 'label-es': 'pod1' }, ports) });
  await core().createNamespacedPod({ namespace, body: servingPod('es-pod2', { 'label-es': 'pod2' }, ports) });
  // svc1 targets by port name, svc2 by number; svc3 selects both.
  await core().createNamespacedService({ namespace, body: { metadata: { name: 'example-int-port' }, spec: { selector: { 'label-es': 'pod1' }, ports: [{ name: 'example', port: 80, protocol: 'TCP', targetPort: 80 }] } } });
  await core().createNamespacedService({ namespace, body: { metadata: { name: 'example-named-port' }, spec: { selector: { 'label-es': 'pod2' }, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'example-name' }] } } });
  await core().createNamespacedService({ namespace, body: { metadata: { name: 'example-no-match' }, spec: { selector: { 'label-es': 'none' }, ports: [{ name: 'example-no-match', port: 80, protocol: 'TCP', targetPort: 8080 }] } } });
  await waitForPodReady(namespace, 'es-pod1');
  await waitForPodReady(namespace, 'es-pod2');

  for (const [svc, pod, portName] of [['example-int-port', 'es-pod1', 'example'], ['example-named-port', 'es-pod2', 'http']] as const) {
    await waitFor(`Endpoints and EndpointSlices for ${svc}`, async () => {
      const p = await core().readNamespacedPod({ namespace, name: pod });
      const ep = await core().readNamespacedEndpoints({ namespace, name: svc });
      const addrs = (ep.subsets ?? []).flatMap((s) => s.addresses ?? []);
      if (addrs.length !== 1 || addrs[0].ip !== p.status?.podIP || addrs[0].targetRef?.name !== pod) return false;
      if (ep.subsets?.[0]?.ports?.[0]?.port !== 80 || ep.subsets?.[0]?.ports?.[0]?.name !== portName) return false;
      const slices = (await discovery().listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${svc}` })).items;
      if (slices.length !== 1) return false;
      const s = slices[0];
      if (s.metadata?.labels?.['endpointslice.kubernetes.io/managed-by'] !== 'endpointslice-controller.k8s.io') return false;
      if (!s.metadata?.ownerReferences?.some((o) => o.kind === 'Service' && o.name === svc && o.controller)) return false;
      if (s.addressType !== 'IPv4' || (s.endpoints ?? []).length !== 1) return false;
      const e = s.endpoints![0];
      if (e.addresses[0] !== p.status?.podIP || e.targetRef?.name !== pod || e.targetRef?.kind !== 'Pod') return false;
      return s.ports?.length === 1 && s.ports[0].port === 80 && s.ports[0].name === portName;
    }, 120_000, 500);
  }
  // The service matching nothing has an empty slice, and Endpoints with no addresses.
  await waitFor('an empty EndpointSlice for example-no-match', async () => {
    const slices = (await discovery().listNamespacedEndpointSlice({ namespace, labelSelector: 'kubernetes.io/service-name=example-no-match' })).items;
    const ep = await core().readNamespacedEndpoints({ namespace, name: 'example-no-match' });
    return slices.length === 1 && (slices[0].endpoints ?? []).length === 0 && (ep.subsets ?? []).length === 0;
  }, 60_000, 500);
  for (const name of ['example-int-port', 'example-named-port', 'example-no-match']) await core().deleteNamespacedService({ namespace, name });
  for (const name of ['es-pod1', 'es-pod2']) await core().deleteNamespacedPod({ namespace, name });
});

test('[sig-network] EndpointSlice should have Endpoints and EndpointSlices pointing to API Server', async () => {
  const ep = await core().readNamespacedEndpoints({ namespace: 'default', name: 'kubernetes' });
  const addresses = (ep.subsets ?? []).flatMap((s) => s.addresses ?? []).map((a) => a.ip);
  expect(addresses.length).toBeGreaterThan(0);
  const slices = await discovery().listNamespacedEndpointSlice({ namespace: 'default', labelSelector: 'kubernetes.io/service-name=kubernetes' });
  expect(slices.items).toHaveLength(1);
  const sliceAddresses = (slices.items[0].endpoints ?? []).flatMap((e) => e.addresses);
  for (const a of addresses) expect(sliceAddresses).toContain(a);
  expect(sliceAddresses).toHaveLength(addresses.length);
  // Ports agree too.
  expect((slices.items[0].ports ?? []).map((p) => p.port)).toEqual((ep.subsets?.[0]?.ports ?? []).map((p) => p.port));
});

test('[sig-network] Ingress API should support creating Ingress API operations', async () => {
  const namespace = ns.name;
  const groups = await apiGet<{ groups: { name: string; versions: { groupVersion: string }[] }[] }>('/apis');
  expect(groups.groups.find((g) => g.name === 'networking.k8s.io')?.versions.map((v) => v.groupVersion)).toContain('networking.k8s.io/v1');
  const resources = await apiGet<{ resources: { name: string }[] }>('/apis/networking.k8s.io/v1');
  expect(resources.resources.map((r) => r.name)).toEqual(expect.arrayContaining(['ingresses', 'ingresses/status']));

  const label = `e2e-ing-${rand()}`;
  const sel = `special-label=${label}`;
  const ingress = (): k8s.V1Ingress => ({
    metadata: { generateName: 'e2e-example-ing', labels: { 'special-label': label } },
    spec: {
      defaultBackend: { service: { name: 'default-backend', port: { number: 8080 } } },
      rules: [{ host: 'foo.bar.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'test-backend', port: { number: 8080 } } } }] } }],
    },
  });
  const api = networking();
  const watch = await startWatch<k8s.V1Ingress>(`/apis/networking.k8s.io/v1/namespaces/${namespace}/ingresses`, { labelSelector: sel });
  try {
    const created = await api.createNamespacedIngress({ namespace, body: ingress() });
    await api.createNamespacedIngress({ namespace, body: ingress() });
    await api.createNamespacedIngress({ namespace, body: ingress() });
    const name = created.metadata!.name!;

    expect((await api.readNamespacedIngress({ namespace, name })).metadata?.uid).toBe(created.metadata?.uid);
    expect((await api.listNamespacedIngress({ namespace, labelSelector: sel })).items).toHaveLength(3);
    expect((await api.listIngressForAllNamespaces({ labelSelector: sel })).items).toHaveLength(3);
    await watch.waitForEvent((e) => e.type === 'ADDED' && e.object.metadata?.name === name);

    const patched = await api.patchNamespacedIngress({ namespace, name, body: { metadata: { annotations: { patched: 'true' } } } }, mergePatch);
    expect(patched.metadata?.annotations?.patched).toBe('true');
    await watch.waitForEvent((e) => e.type === 'MODIFIED' && e.object.metadata?.annotations?.patched === 'true');

    const cur = await api.readNamespacedIngress({ namespace, name });
    cur.metadata!.annotations = { ...cur.metadata!.annotations, updated: 'true' };
    const updated = await api.replaceNamespacedIngress({ namespace, name, body: cur });
    expect(updated.metadata?.annotations?.updated).toBe('true');
    await watch.waitForEvent((e) => e.type === 'MODIFIED' && e.object.metadata?.annotations?.updated === 'true');

    // patching /status (with an annotation), updating /status, get /status (as upstream: each
    // answer is checked, not a later read, which the cluster's ingress controller may overwrite).
    const statusPatched = await api.patchNamespacedIngressStatus({ namespace, name, body: { metadata: { annotations: { patchedstatus: 'true' } }, status: { loadBalancer: { ingress: [{ ip: '169.1.1.1' }] } } } }, mergePatch);
    expect(statusPatched.status?.loadBalancer).toEqual({ ingress: [{ ip: '169.1.1.1' }] });
    expect(statusPatched.metadata?.annotations?.patchedstatus).toBe('true');
    let statusUpdated: k8s.V1Ingress | undefined;
    for (let attempt = 0; attempt < 5 && !statusUpdated; attempt++) {
      const toUpdate = await api.readNamespacedIngress({ namespace, name });
      toUpdate.status = { loadBalancer: { ingress: [{ ip: '169.1.1.2' }] } };
      statusUpdated = await api.replaceNamespacedIngressStatus({ namespace, name, body: toUpdate }).catch((e: { code?: number }) => {
        if (e.code === 409) return undefined;
        throw e;
      });
    }
    expect(statusUpdated?.status?.loadBalancer).toEqual({ ingress: [{ ip: '169.1.1.2' }] });
    const gottenStatus = await apiGet<{ metadata: { uid: string } }>(`/apis/networking.k8s.io/v1/namespaces/${namespace}/ingresses/${name}/status`);
    expect(gottenStatus.metadata.uid).toBe(created.metadata?.uid);

    await api.deleteNamespacedIngress({ namespace, name });
    await waitFor('ingress deleted', async () => api.readNamespacedIngress({ namespace, name }).then(() => false, (e: { code?: number }) => e.code === 404));
    await watch.waitForEvent((e) => e.type === 'DELETED' && e.object.metadata?.name === name);
    expect((await api.listNamespacedIngress({ namespace, labelSelector: sel })).items).toHaveLength(2);

    await api.deleteCollectionNamespacedIngress({ namespace, labelSelector: sel });
    await waitFor('ingresses collection-deleted', async () => (await api.listNamespacedIngress({ namespace, labelSelector: sel })).items.length === 0);
  } finally {
    watch.stop();
  }
});

test('[sig-network] IngressClass API should support creating IngressClass API operations', async () => {
  const groups = await apiGet<{ groups: { name: string; versions: { groupVersion: string }[] }[] }>('/apis');
  expect(groups.groups.find((g) => g.name === 'networking.k8s.io')?.versions.map((v) => v.groupVersion)).toContain('networking.k8s.io/v1');
  const resources = await apiGet<{ resources: { name: string }[] }>('/apis/networking.k8s.io/v1');
  expect(resources.resources.map((r) => r.name)).toContain('ingressclasses');

  const label = `e2e-ic-${rand()}`;
  const sel = `special-label=${label}`;
  const api = networking();
  const ic = (): k8s.V1IngressClass => ({ metadata: { generateName: 'ingressclass1-', labels: { 'special-label': label } }, spec: { controller: 'example.com/controller' } });
  const created: string[] = [];
  const watch = await startWatch<k8s.V1IngressClass>('/apis/networking.k8s.io/v1/ingressclasses', { labelSelector: sel });
  try {
    for (let i = 0; i < 3; i++) created.push((await api.createIngressClass({ body: ic() })).metadata!.name!);
    const name = created[0];
    const got = await api.readIngressClass({ name });
    expect(got.spec?.controller).toBe('example.com/controller');
    expect((await api.listIngressClass({ labelSelector: sel })).items).toHaveLength(3);
    await watch.waitForEvent((e) => e.type === 'ADDED' && e.object.metadata?.name === name);

    const patched = await api.patchIngressClass({ name, body: { metadata: { annotations: { patched: 'true' } } } }, mergePatch);
    expect(patched.metadata?.annotations?.patched).toBe('true');
    await watch.waitForEvent((e) => e.type === 'MODIFIED' && e.object.metadata?.annotations?.patched === 'true');

    const cur = await api.readIngressClass({ name });
    cur.metadata!.annotations = { ...cur.metadata!.annotations, updated: 'true' };
    const updated = await api.replaceIngressClass({ name, body: cur });
    expect(updated.metadata?.annotations?.updated).toBe('true');

    await api.deleteIngressClass({ name });
    await expect(api.readIngressClass({ name })).rejects.toMatchObject({ code: 404 });
    await watch.waitForEvent((e) => e.type === 'DELETED' && e.object.metadata?.name === name);
    expect((await api.listIngressClass({ labelSelector: sel })).items).toHaveLength(2);

    await api.deleteCollectionIngressClass({ labelSelector: sel });
    await waitFor('ingressclasses collection-deleted', async () => (await api.listIngressClass({ labelSelector: sel })).items.length === 0);
  } finally {
    watch.stop();
    for (const name of created) await api.deleteIngressClass({ name }).catch(() => undefined);
  }
});
