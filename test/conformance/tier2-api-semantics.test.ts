// Tier 2 of the conformance subset: namespaces and generic object semantics (CRUD, patch,
// watch, paging, validation, dry-run), re-stated from upstream's e2e tests.
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import {
  IMAGE,
  apiRequest,
  core,
  kubeConfig,
  kubectl,
  sleep,
  startWatch,
  strategicMergePatch,
  useTestNamespace,
  waitFor,
  type CollectedEvent,
} from './framework.js';

const ns = useTestNamespace('api');
const apps = (): k8s.AppsV1Api => kubeConfig().makeApiClient(k8s.AppsV1Api);
const uid = (): string => randomBytes(4).toString('hex');


async function createNamespaceAndWait(name: string): Promise<k8s.V1Namespace> {
  const created = await core().createNamespace({ body: { metadata: { name } } });
  await waitFor(`ServiceAccount ${name}/default`, () => core().readNamespacedServiceAccount({ namespace: name, name: 'default' }).then(() => true));
  return created;
}

/** Retries a read-modify-write on 409 Conflict, as upstream's retry.RetryOnConflict. */
async function retryOnConflict<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if ((err as { code?: number }).code !== 409 || i >= 5) throw err;
      await sleep(100);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Namespaces [Serial]
// ---------------------------------------------------------------------------------------------

describe('namespaces', () => {
  const extra: string[] = [];
  afterAll(async () => {
    for (const name of extra) await core().deleteNamespace({ name }).catch(() => undefined);
  });

  test('[sig-api-machinery] Namespaces [Serial] should patch a Namespace', async () => {
    const namespaceName = `nspatchtest-${uid()}`;
    extra.push(namespaceName);
    await createNamespaceAndWait(namespaceName);
    await core().patchNamespace({ name: namespaceName, body: { metadata: { labels: { testLabel: 'testValue' } } } }, strategicMergePatch);
    const namespace = await core().readNamespace({ name: namespaceName });
    expect(namespace.metadata?.labels).toHaveProperty('testLabel', 'testValue');
  });

  test('[sig-api-machinery] Namespaces [Serial] should apply an update to a Namespace', async () => {
    const name = ns.name;
    const updated = await retryOnConflict(async () => {
      const current = await core().readNamespace({ name });
      current.metadata!.labels = { ...(current.metadata!.labels ?? {}), [name]: 'updated' };
      return core().replaceNamespace({ name, body: current });
    });
    expect(updated.metadata?.labels).toHaveProperty(name, 'updated');
    const read = await core().readNamespace({ name });
    expect(read.metadata?.labels).toHaveProperty(name, 'updated');
  });

  test('[sig-api-machinery] Namespaces [Serial] should apply a finalizer to a Namespace', async () => {
    const fakeFinalizer = 'e2e.example.com/fakeFinalizer';
    const nsName = `e2e-ns-${uid().slice(0, 5)}`;
    extra.push(nsName);
    await createNamespaceAndWait(nsName);
    const withFinalizer = await retryOnConflict(async () => {
      const current = await core().readNamespace({ name: nsName });
      current.spec = { ...(current.spec ?? {}), finalizers: [...(current.spec?.finalizers ?? []), fakeFinalizer] };
      return core().replaceNamespaceFinalize({ name: nsName, body: current });
    });
    expect(withFinalizer.spec?.finalizers).toContain(fakeFinalizer);
    expect((await core().readNamespace({ name: nsName })).spec?.finalizers).toContain(fakeFinalizer);

    const without = await retryOnConflict(async () => {
      const current = await core().readNamespace({ name: nsName });
      current.spec = { ...(current.spec ?? {}), finalizers: (current.spec?.finalizers ?? []).filter((f) => f !== fakeFinalizer) };
      return core().replaceNamespaceFinalize({ name: nsName, body: current });
    });
    expect(without.spec?.finalizers ?? []).not.toContain(fakeFinalizer);
    expect((await core().readNamespace({ name: nsName })).spec?.finalizers ?? []).not.toContain(fakeFinalizer);
  });
});

// ---------------------------------------------------------------------------------------------
// ConfigMaps and Secrets
// ---------------------------------------------------------------------------------------------

test('[sig-node] ConfigMap should run through a ConfigMap lifecycle', async () => {
  const namespace = ns.name;
  const name = `test-configmap${uid()}`;
  await core().createNamespacedConfigMap({ namespace, body: { metadata: { name, labels: { 'test-configmap-static': 'true' } }, data: { valueName: 'value' } } });

  const fetched = await core().readNamespacedConfigMap({ namespace, name });
  expect(fetched.data?.valueName).toBe('value');
  expect(fetched.metadata?.labels?.['test-configmap-static']).toBe('true');

  await core().patchNamespacedConfigMap(
    { namespace, name, body: { metadata: { labels: { 'test-configmap': 'patched' } }, data: { valueName: 'value1' } } },
    strategicMergePatch,
  );

  const all = await core().listConfigMapForAllNamespaces({ labelSelector: 'test-configmap-static=true' });
  const found = all.items.find((cm) => cm.metadata?.name === name && cm.metadata?.namespace === namespace);
  expect(found).toBeDefined();
  expect(found!.data?.valueName).toBe('value1');
  expect(found!.metadata?.labels).toMatchObject({ 'test-configmap-static': 'true', 'test-configmap': 'patched' });

  await core().deleteCollectionNamespacedConfigMap({ namespace, labelSelector: 'test-configmap-static=true' });
  const after = await core().listNamespacedConfigMap({ namespace, labelSelector: 'test-configmap-static=true' });
  expect(after.items).toHaveLength(0);
});

test('[sig-node] ConfigMap should fail to create ConfigMap with empty key', async () => {
  const namespace = ns.name;
  const name = `configmap-test-emptykey-${uid()}`;
  await expect(core().createNamespacedConfigMap({ namespace, body: { metadata: { name }, data: { '': 'value' } } })).rejects.toMatchObject({ code: 422 });
  await expect(core().readNamespacedConfigMap({ namespace, name })).rejects.toMatchObject({ code: 404 });
});

test('[sig-storage] ConfigMap should be immutable if `immutable` field is set', async () => {
  const namespace = ns.name;
  const name = `immutable-${uid()}`;
  let current = await core().createNamespacedConfigMap({ namespace, body: { metadata: { name }, data: { 'data-1': 'value-1', 'data-2': 'value-2', 'data-3': 'value-3' } } });

  current.data = { ...current.data, 'data-4': 'value-4' };
  current = await core().replaceNamespacedConfigMap({ namespace, name, body: current });
  expect(current.data?.['data-4']).toBe('value-4');

  // Mark the config map immutable.
  current.immutable = true;
  current = await core().replaceNamespacedConfigMap({ namespace, name, body: current });
  expect(current.immutable).toBe(true);

  // Data can no longer change.
  const dataEdit = { ...current, data: { ...current.data, 'data-5': 'value-5' } };
  await expect(core().replaceNamespacedConfigMap({ namespace, name, body: dataEdit })).rejects.toMatchObject({ code: 422 });

  // It cannot be switched back to mutable.
  current = await core().readNamespacedConfigMap({ namespace, name });
  expect(current.immutable).toBe(true);
  expect(current.data?.['data-5']).toBeUndefined();
  await expect(core().replaceNamespacedConfigMap({ namespace, name, body: { ...current, immutable: false } })).rejects.toMatchObject({ code: 422 });

  // Metadata can still change.
  current = await core().readNamespacedConfigMap({ namespace, name });
  current.metadata!.labels = { label1: 'value1' };
  const relabelled = await core().replaceNamespacedConfigMap({ namespace, name, body: current });
  expect(relabelled.metadata?.labels).toEqual({ label1: 'value1' });

  // And it can be deleted.
  await core().deleteNamespacedConfigMap({ namespace, name });
  await expect(core().readNamespacedConfigMap({ namespace, name })).rejects.toMatchObject({ code: 404 });
});

test('[sig-node] Secrets should patch a secret', async () => {
  const namespace = ns.name;
  const name = `test-secret-${uid()}`;
  await core().createNamespacedSecret({
    namespace,
    body: { metadata: { name, labels: { 'testsecret-constant': 'true' } }, data: { key: Buffer.from('value').toString('base64') }, type: 'Opaque' },
  });

  const listed = await core().listSecretForAllNamespaces({ labelSelector: 'testsecret-constant=true' });
  expect(listed.items.length).toBeGreaterThan(0);
  expect(listed.items.some((s) => s.metadata?.name === name && s.metadata?.namespace === namespace)).toBe(true);

  await core().patchNamespacedSecret(
    { namespace, name, body: { metadata: { labels: { testsecret: 'true' } }, data: { key: Buffer.from('value1').toString('base64') } } },
    strategicMergePatch,
  );
  const patched = await core().readNamespacedSecret({ namespace, name });
  expect(Buffer.from(patched.data?.key ?? '', 'base64').toString()).toBe('value1');
  expect(patched.metadata?.labels?.testsecret).toBe('true');

  await core().deleteCollectionNamespacedSecret({ namespace, labelSelector: 'testsecret=true' });
  const after = await core().listSecretForAllNamespaces({ labelSelector: 'testsecret-constant=true' });
  expect(after.items.some((s) => s.metadata?.name === name && s.metadata?.namespace === namespace)).toBe(false);
});

// ---------------------------------------------------------------------------------------------
// Watchers
// ---------------------------------------------------------------------------------------------

const WATCH_LABEL = 'watch-this-configmap';
type Watcher = Awaited<ReturnType<typeof startWatch<k8s.V1ConfigMap>>>;

function watchConfigMaps(resourceVersion: string, ...labels: string[]): Promise<Watcher> {
  const query: Record<string, string> = { labelSelector: `${WATCH_LABEL} in (${labels.join(',')})` };
  if (resourceVersion) query.resourceVersion = resourceVersion;
  return startWatch<k8s.V1ConfigMap>(`/api/v1/namespaces/${ns.name}/configmaps`, query);
}

async function updateConfigMap(name: string, mutate: (cm: k8s.V1ConfigMap) => void): Promise<k8s.V1ConfigMap> {
  return retryOnConflict(async () => {
    const cm = await core().readNamespacedConfigMap({ namespace: ns.name, name });
    mutate(cm);
    return core().replaceNamespacedConfigMap({ namespace: ns.name, name, body: cm });
  });
}
const setData = (value: string) => (cm: k8s.V1ConfigMap): void => {
  cm.data = { ...(cm.data ?? {}), mutation: value };
};

/** Whether a watch event carries the expected object (same name, resourceVersion and data); any object when `expected` is undefined. */
function sameObject(e: CollectedEvent<k8s.V1ConfigMap>, type: string, expected?: k8s.V1ConfigMap, name?: string): boolean {
  if (e.type !== type) return false;
  if (name && e.object.metadata?.name !== name) return false;
  if (!expected) return true;
  return (
    e.object.metadata?.name === expected.metadata?.name &&
    e.object.metadata?.resourceVersion === expected.metadata?.resourceVersion &&
    JSON.stringify(e.object.data ?? {}) === JSON.stringify(expected.data ?? {})
  );
}

/** The watch's events as TYPE:name:resourceVersion (resourceVersion omitted for DELETED). */
const summary = (w: Watcher): string[] => w.events.map((e) => `${e.type}:${e.object.metadata?.name}${e.type === 'DELETED' ? '' : `:${e.object.metadata?.resourceVersion}`}`);
const line = (type: string, cm: k8s.V1ConfigMap): string => `${type}:${cm.metadata?.name}${type === 'DELETED' ? '' : `:${cm.metadata?.resourceVersion}`}`;

test('[sig-api-machinery] Watchers should observe add, update, and delete watch notifications on configmaps', async () => {
  const labelA = 'multiple-watchers-A';
  const labelB = 'multiple-watchers-B';
  const watchA = await watchConfigMaps('', labelA);
  const watchB = await watchConfigMaps('', labelB);
  const watchAB = await watchConfigMaps('', labelA, labelB);
  try {
    const nameA = 'e2e-watch-test-configmap-a';
    const nameB = 'e2e-watch-test-configmap-b';

    // A: create, two updates, delete.
    let a = await core().createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: nameA, labels: { [WATCH_LABEL]: labelA } } } });
    await watchA.waitForEvent((e) => sameObject(e, 'ADDED', a));
    await watchAB.waitForEvent((e) => sameObject(e, 'ADDED', a));
    const a0 = a;
    a = await updateConfigMap(nameA, setData('1'));
    await watchA.waitForEvent((e) => sameObject(e, 'MODIFIED', a));
    await watchAB.waitForEvent((e) => sameObject(e, 'MODIFIED', a));
    const a1 = a;
    a = await updateConfigMap(nameA, setData('2'));
    await watchA.waitForEvent((e) => sameObject(e, 'MODIFIED', a));
    await watchAB.waitForEvent((e) => sameObject(e, 'MODIFIED', a));
    const a2 = a;
    await core().deleteNamespacedConfigMap({ namespace: ns.name, name: nameA });
    await watchA.waitForEvent((e) => sameObject(e, 'DELETED', undefined, nameA));
    await watchAB.waitForEvent((e) => sameObject(e, 'DELETED', undefined, nameA));

    // B: create, delete.
    const b = await core().createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: nameB, labels: { [WATCH_LABEL]: labelB } } } });
    await watchB.waitForEvent((e) => sameObject(e, 'ADDED', b));
    await watchAB.waitForEvent((e) => sameObject(e, 'ADDED', b));
    await core().deleteNamespacedConfigMap({ namespace: ns.name, name: nameB });
    await watchB.waitForEvent((e) => sameObject(e, 'DELETED', undefined, nameB));
    await watchAB.waitForEvent((e) => sameObject(e, 'DELETED', undefined, nameB));

    // No watcher saw anything it should not have (upstream's expectNoEvent checks), nor extra events.
    await sleep(1000);
    const aEvents = [line('ADDED', a0), line('MODIFIED', a1), line('MODIFIED', a2), line('DELETED', a2)];
    const bEvents = [line('ADDED', b), line('DELETED', b)];
    expect(summary(watchA)).toEqual(aEvents);
    expect(summary(watchB)).toEqual(bEvents);
    expect(summary(watchAB)).toEqual([...aEvents, ...bEvents]);
  } finally {
    watchA.stop();
    watchB.stop();
    watchAB.stop();
  }
});

test('[sig-api-machinery] Watchers should be able to start watching from a specific resource version', async () => {
  const label = 'from-resource-version';
  const name = 'e2e-watch-test-resource-version';
  await core().createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name, labels: { [WATCH_LABEL]: label } } } });
  const firstUpdate = await updateConfigMap(name, setData('1'));
  const secondUpdate = await updateConfigMap(name, setData('2'));
  await core().deleteNamespacedConfigMap({ namespace: ns.name, name });

  const w = await watchConfigMaps(firstUpdate.metadata!.resourceVersion!, label);
  try {
    await w.waitForEvent((e) => sameObject(e, 'MODIFIED', secondUpdate));
    await w.waitForEvent((e) => sameObject(e, 'DELETED', undefined, name));
    await sleep(500);
    // Only the changes after the first update are replayed.
    expect(summary(w)).toEqual([line('MODIFIED', secondUpdate), line('DELETED', secondUpdate)]);
    expect(w.events[0].object.data).toEqual({ mutation: '2' });
  } finally {
    w.stop();
  }
});

test('[sig-api-machinery] Watchers should be able to restart watching from the last resource version observed by the previous watch', async () => {
  const label = 'watch-closed-and-restarted';
  const name = 'e2e-watch-test-watch-closed';
  const broken = await watchConfigMaps('', label);
  let lastEvent: CollectedEvent<k8s.V1ConfigMap>;
  try {
    const created = await core().createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name, labels: { [WATCH_LABEL]: label } } } });
    const firstUpdate = await updateConfigMap(name, setData('1'));
    await broken.waitForEvent((e) => sameObject(e, 'ADDED', created));
    lastEvent = await broken.waitForEvent((e) => sameObject(e, 'MODIFIED', firstUpdate));
  } finally {
    broken.stop();
  }
  const secondUpdate = await updateConfigMap(name, setData('2'));

  const restarted = await watchConfigMaps(lastEvent.object.metadata!.resourceVersion!, label);
  try {
    await core().deleteNamespacedConfigMap({ namespace: ns.name, name });
    await restarted.waitForEvent((e) => sameObject(e, 'MODIFIED', secondUpdate));
    await restarted.waitForEvent((e) => sameObject(e, 'DELETED', undefined, name));
    await sleep(500);
    // No gap and no repeats.
    expect(summary(restarted)).toEqual([line('MODIFIED', secondUpdate), line('DELETED', secondUpdate)]);
  } finally {
    restarted.stop();
  }
});

test('[sig-api-machinery] Watchers should observe an object deletion if it stops meeting the requirements of the selector', async () => {
  const label = 'label-changed-and-restored';
  const name = 'e2e-watch-test-label-changed';
  const w = await watchConfigMaps('', label);
  try {
    const created = await core().createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name, labels: { [WATCH_LABEL]: label } } } });
    const firstUpdate = await updateConfigMap(name, setData('1'));
    await updateConfigMap(name, (cm) => {
      cm.metadata!.labels = { ...cm.metadata!.labels, [WATCH_LABEL]: 'wrong-value' };
    });
    await w.waitForEvent((e) => sameObject(e, 'ADDED', created));
    await w.waitForEvent((e) => sameObject(e, 'MODIFIED', firstUpdate));
    await w.waitForEvent((e) => sameObject(e, 'DELETED', undefined, name));

    const secondUpdate = await updateConfigMap(name, setData('2'));
    // Not observed: the object no longer meets the selector.
    await sleep(2000);
    expect(w.events.some((e) => e.object.metadata?.resourceVersion === secondUpdate.metadata?.resourceVersion)).toBe(false);

    const restored = await updateConfigMap(name, (cm) => {
      cm.metadata!.labels = { ...cm.metadata!.labels, [WATCH_LABEL]: label };
    });
    const thirdUpdate = await updateConfigMap(name, setData('3'));
    await core().deleteNamespacedConfigMap({ namespace: ns.name, name });
    await w.waitForEvent((e) => sameObject(e, 'ADDED', restored));
    await w.waitForEvent((e) => sameObject(e, 'MODIFIED', thirdUpdate));
    await w.waitForEvent((e) => e.type === 'DELETED' && e.object.metadata?.name === name && w.events.indexOf(e) > 3);
    expect(w.events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED', 'ADDED', 'MODIFIED', 'DELETED']);
    expect(w.events[3].object.data).toEqual({ mutation: '2' });
  } finally {
    w.stop();
  }
});

// ---------------------------------------------------------------------------------------------
// Chunking, field validation, dry-run, diff
// ---------------------------------------------------------------------------------------------

test('[sig-api-machinery] Servers with support for API chunking should return chunks of results for list calls', async () => {
  const namespace = ns.name;
  const total = 400;
  const names = Array.from({ length: total }, (_, i) => `template-${String(i).padStart(4, '0')}`);
  for (let i = 0; i < total; i += 20) {
    await Promise.all(
      names.slice(i, i + 20).map((name) =>
        core().createNamespacedPodTemplate({
          namespace,
          body: { metadata: { name }, template: { spec: { containers: [{ name: 'test', image: IMAGE }] } } },
        }),
      ),
    );
  }

  for (let round = 0; round < 3; round++) {
    let found = 0;
    let lastRV = '';
    let cont: string | undefined;
    for (;;) {
      const limit = Math.floor(Math.random() * (total / 10)) + 1;
      const list = await core().listNamespacedPodTemplate({ namespace, limit, _continue: cont });
      expect(list.items.length).toBeLessThanOrEqual(limit);
      if (!lastRV) lastRV = list.metadata!.resourceVersion!;
      expect(list.metadata?.resourceVersion).toBe(lastRV);
      if (!list.metadata?._continue) {
        expect(list.metadata?.remainingItemCount).toBeUndefined();
      } else {
        expect(list.metadata.remainingItemCount).toBeDefined();
        expect(Number(list.metadata.remainingItemCount) + list.items.length + found).toBe(total);
      }
      for (const item of list.items) {
        expect(item.metadata?.name).toBe(names[found]);
        found++;
      }
      if (!list.metadata?._continue) break;
      cont = list.metadata._continue;
    }
    expect(found).toBe(total);
  }

  const all = await core().listNamespacedPodTemplate({ namespace, limit: total + 1 });
  expect(all.items).toHaveLength(total);
  expect(all.metadata?._continue ?? '').toBe('');
  await core().deleteCollectionNamespacedPodTemplate({ namespace });
});

test('[sig-api-machinery] FieldValidation should detect unknown and duplicate fields of a typed object', async () => {
  const namespace = ns.name;
  const invalidMetaDeployment = `{
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
      "name": "deployment-strict",
      "unknownMeta": "foo",
      "labels": {"app": "nginx"}
    },
    "spec": {
      "selector": {"matchLabels": {"app": "nginx"}},
      "template": {
        "metadata": {"labels": {"app": "nginx"}},
        "spec": {
          "containers": [{
            "name": "nginx",
            "image": "${IMAGE}",
            "unknownNested": "foo",
            "imagePullPolicy": "Never"
          }]
        }
      },
      "replicas": 2,
      "replicas": 3,
      "unknownSpec": "foo"
    }
  }`;
  const result = await apiRequest('POST', `/apis/apps/v1/namespaces/${namespace}/deployments?fieldValidation=Strict`, invalidMetaDeployment);
  expect(result.status).toBe(400);
  const message = (JSON.parse(result.body) as { message: string }).message;
  for (const expectedErr of [
    'unknown field "metadata.unknownMeta"',
    'unknown field "spec.template.spec.containers[0].unknownNested"',
    'unknown field "spec.unknownSpec"',
    'duplicate field "spec.replicas"',
  ]) {
    expect(message).toContain(expectedErr);
  }
  await expect(apps().readNamespacedDeployment({ namespace, name: 'deployment-strict' })).rejects.toMatchObject({ code: 404 });

  // The same strictness applies to updates of an existing object.
  const valid = JSON.parse(invalidMetaDeployment.replace('"replicas": 2,', '').replace('"unknownMeta": "foo",', '').replace('"unknownNested": "foo",', '').replace(',\n      "unknownSpec": "foo"', '')) as k8s.V1Deployment;
  const created = await apps().createNamespacedDeployment({ namespace, body: valid });
  expect(created.spec?.replicas).toBe(3);
  const update = JSON.stringify({ ...created, spec: { ...created.spec, unknownSpec: 'foo' } }).replace('"replicas":3', '"replicas":3,"replicas":4');
  const updated = await apiRequest('PUT', `/apis/apps/v1/namespaces/${namespace}/deployments/deployment-strict?fieldValidation=Strict`, update);
  expect(updated.status).toBe(400);
  const updateMessage = (JSON.parse(updated.body) as { message: string }).message;
  expect(updateMessage).toContain('unknown field "spec.unknownSpec"');
  expect(updateMessage).toContain('duplicate field "spec.replicas"');
  expect((await apps().readNamespacedDeployment({ namespace, name: 'deployment-strict' })).spec?.replicas).toBe(3);
  await apps().deleteNamespacedDeployment({ namespace, name: 'deployment-strict' });
});


test('[sig-cli] Kubectl client Kubectl server-side dry-run should check if kubectl can dry-run update Pods', async () => {
  const namespace = ns.name;
  const podName = 'e2e-test-httpd-pod';
  const otherImage = 'podium.local/busybox:dry-run';
  const run = await kubectl(['-n', namespace, 'run', podName, `--image=${IMAGE}`, '--image-pull-policy=IfNotPresent', `--labels=run=${podName}`]);
  expect(run.code).toBe(0);

  const specImage = JSON.stringify({ spec: { containers: [{ name: podName, image: otherImage }] } });
  const patch = await kubectl(['-n', namespace, 'patch', 'pod', podName, '-p', specImage, '--dry-run=server', '-o', 'json']);
  expect(patch.stderr).toBe('');
  expect(patch.code).toBe(0);
  // The server answers with the changed object ...
  const returned = JSON.parse(patch.stdout) as k8s.V1Pod;
  expect(returned.spec?.containers[0].image).toBe(otherImage);

  // ... but stores nothing.
  const pod = await core().readNamespacedPod({ namespace, name: podName });
  expect(pod.spec?.containers.map((c) => c.image)).toEqual([IMAGE]);
  expect(pod.metadata?.resourceVersion).toBeDefined();

  const del = await kubectl(['-n', namespace, 'delete', 'pods', podName, '--grace-period=0', '--force', '--wait=false']);
  expect(del.code).toBe(0);
});

test('[sig-cli] Kubectl client Kubectl diff should check if kubectl diff finds a difference for Deployments', async () => {
  const namespace = ns.name;
  const liveImage = IMAGE;
  const localImage = 'podium.local/busybox:1.36-diff';
  const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: httpd-deployment
  labels:
    app: httpd
spec:
  replicas: 2
  selector:
    matchLabels:
      app: httpd
  template:
    metadata:
      labels:
        app: httpd
    spec:
      containers:
      - name: httpd
        image: ${liveImage}
        imagePullPolicy: IfNotPresent
        command: ["httpd", "-f", "-p", "80"]
        ports:
        - containerPort: 80
`;
  const created = await kubectl(['-n', namespace, 'create', '-f', '-'], { input: deployment });
  expect(created.code).toBe(0);

  const changed = deployment.replace(liveImage, localImage);
  expect(changed).toContain(localImage);
  const diff = await kubectl(['-n', namespace, 'diff', '-f', '-'], { input: changed });
  // Exit status 1: differences found (0 would be none, >1 an error).
  expect({ code: diff.code, stderr: diff.stderr }).toEqual({ code: 1, stderr: '' });
  expect(diff.stdout).toContain(liveImage);
  expect(diff.stdout).toContain(localImage);

  // diff is a dry run: the live object is unchanged.
  const live = await apps().readNamespacedDeployment({ namespace, name: 'httpd-deployment' });
  expect(live.spec?.template.spec?.containers[0].image).toBe(liveImage);
  const del = await kubectl(['-n', namespace, 'delete', '-f', '-'], { input: changed });
  expect(del.code).toBe(0);
});

// ---------------------------------------------------------------------------------------------
// Events, ServiceAccounts, PodTemplates
// ---------------------------------------------------------------------------------------------

test('[sig-instrumentation] Events should manage the lifecycle of an event', async () => {
  const namespace = ns.name;
  const eventTestName = 'event-test';
  await core().createNamespacedEvent({
    namespace,
    body: {
      metadata: { name: eventTestName, labels: { 'testevent-constant': 'true' } },
      message: 'This is a test event',
      reason: 'Test',
      type: 'Normal',
      count: 1,
      involvedObject: { namespace },
    },
  });

  let list = await core().listEventForAllNamespaces({ labelSelector: 'testevent-constant=true' });
  const created = list.items.find((e) => e.metadata?.name === eventTestName && e.metadata?.namespace === namespace);
  expect(created).toBeDefined();

  const eventPatchMessage = 'This is a test event - patched';
  await core().patchNamespacedEvent({ namespace, name: eventTestName, body: { message: eventPatchMessage } }, strategicMergePatch);
  const event = await core().readNamespacedEvent({ namespace, name: eventTestName });
  expect(event.message).toBe(eventPatchMessage);

  const testEvent = await core().readNamespacedEvent({ namespace, name: eventTestName });
  testEvent.series = { count: 100, lastObservedTime: new Date(1505828956 * 1000) };
  testEvent.metadata!.resourceVersion = undefined;
  testEvent.metadata!.managedFields = undefined;
  await core().replaceNamespacedEvent({ namespace, name: eventTestName, body: testEvent });

  const read = await core().readNamespacedEvent({ namespace, name: eventTestName });
  read.metadata!.resourceVersion = undefined;
  read.metadata!.managedFields = undefined;
  // Semantic equality: compare the serialized forms (timestamps as the client sends and reads them).
  const plain = (o: unknown): unknown => JSON.parse(JSON.stringify(o));
  expect(plain(read)).toEqual(plain(testEvent));
  expect(read.series?.count).toBe(100);
  expect(new Date(read.series!.lastObservedTime as unknown as string).getTime()).toBe(1505828956 * 1000);

  await core().deleteNamespacedEvent({ namespace, name: eventTestName });
  list = await core().listEventForAllNamespaces({ labelSelector: 'testevent-constant=true' });
  expect(list.items.some((e) => e.metadata?.name === eventTestName && e.metadata?.namespace === namespace)).toBe(false);
});

test('[sig-auth] ServiceAccounts should run through the lifecycle of a ServiceAccount', async () => {
  const namespace = ns.name;
  const name = 'testserviceaccount';
  const staticLabel = 'test-serviceaccount-static=true';
  await core().createNamespacedServiceAccount({ namespace, body: { metadata: { name, labels: { 'test-serviceaccount-static': 'true' } } } });

  const w = await startWatch<k8s.V1ServiceAccount>(`/api/v1/namespaces/${namespace}/serviceaccounts`, { labelSelector: staticLabel, timeoutSeconds: 180 });
  try {
    await w.waitForEvent((e) => e.type === 'ADDED' && e.object.metadata?.name === name);

    await core().patchNamespacedServiceAccount({ namespace, name, body: { automountServiceAccountToken: false } }, strategicMergePatch);
    await w.waitForEvent((e) => e.type === 'MODIFIED' && e.object.metadata?.name === name);

    const list = await core().listServiceAccountForAllNamespaces({ labelSelector: staticLabel });
    expect(list.items.some((sa) => sa.metadata?.name === name && sa.metadata?.namespace === namespace && sa.automountServiceAccountToken === false)).toBe(true);

    await core().deleteCollectionNamespacedServiceAccount({ namespace });
    await w.waitForEvent((e) => e.type === 'DELETED' && e.object.metadata?.name === name);
  } finally {
    w.stop();
  }
  // The namespace's default ServiceAccount is recreated by its controller.
  await waitFor('default ServiceAccount recreated', () => core().readNamespacedServiceAccount({ namespace, name: 'default' }).then(() => true));
});

test('[sig-node] PodTemplates should run the lifecycle of PodTemplates', async () => {
  const namespace = ns.name;
  const name = `nginx-pod-template-${uid()}`;
  let list = await core().listPodTemplateForAllNamespaces({ labelSelector: 'podtemplate-static=true' });
  expect(list.items).toHaveLength(0);

  await core().createNamespacedPodTemplate({
    namespace,
    body: { metadata: { name, labels: { 'podtemplate-static': 'true' } }, template: { spec: { containers: [{ name: 'nginx', image: IMAGE }] } } },
  });
  let read = await core().readNamespacedPodTemplate({ namespace, name });
  expect(read.metadata?.name).toBe(name);

  await core().patchNamespacedPodTemplate({ namespace, name, body: { metadata: { labels: { podtemplate: 'patched' } } } }, strategicMergePatch);
  read = await core().readNamespacedPodTemplate({ namespace, name });
  expect(read.metadata?.labels).toHaveProperty('podtemplate', 'patched');

  await core().deleteCollectionNamespacedPodTemplate({ namespace, labelSelector: 'podtemplate-static=true' });
  list = await core().listPodTemplateForAllNamespaces({ labelSelector: 'podtemplate-static=true' });
  expect(list.items).toHaveLength(0);
});
