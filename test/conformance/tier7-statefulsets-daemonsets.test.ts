// Tier 7 of the conformance subset: StatefulSets, DaemonSets and ControllerRevisions, re-stated
// from upstream's test/e2e/apps/{statefulset,daemon_set,controller_revision}.go.
import { randomBytes } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';
import { IMAGE, apps, core, mergePatch, startWatch, strategicMergePatch, useTestNamespace, waitFor } from './framework.js';

const ns = useTestNamespace('sts-ds');
const rand = (): string => randomBytes(3).toString('hex');

/** upstream's webserver container (httpd serving /index.html with a readiness probe on it), in busybox. */
function webserver(env: k8s.V1EnvVar[] = []): k8s.V1Container {
  return {
    name: 'webserver',
    image: IMAGE,
    imagePullPolicy: 'IfNotPresent',
    command: ['sh', '-c', 'mkdir -p /w && hostname > /w/index.html && exec httpd -f -p 80 -h /w'],
    env,
    ports: [{ containerPort: 80 }],
    readinessProbe: { httpGet: { path: '/index.html', port: 80 }, periodSeconds: 1, successThreshold: 1, failureThreshold: 1 },
  };
}

function statefulSet(name: string, replicas: number, labels: Record<string, string>): k8s.V1StatefulSet {
  return {
    metadata: { name, labels },
    spec: {
      replicas,
      serviceName: 'test',
      selector: { matchLabels: labels },
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate' },
      template: { metadata: { labels }, spec: { terminationGracePeriodSeconds: 1, containers: [webserver()] } },
    },
  };
}

async function createHeadlessService(namespace: string, labels: Record<string, string>): Promise<void> {
  await core().createNamespacedService({ namespace, body: { metadata: { name: 'test' }, spec: { clusterIP: 'None', selector: labels, ports: [{ name: 'http', port: 80 }] } } }).catch((e: { code?: number }) => {
    if (e.code !== 409) throw e;
  });
}

const isReady = (p: k8s.V1Pod): boolean => p.status?.phase === 'Running' && !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

async function podsOf(namespace: string, selector: Record<string, string>): Promise<k8s.V1Pod[]> {
  const labelSelector = Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',');
  return (await core().listNamespacedPod({ namespace, labelSelector })).items.filter((p) => !p.metadata?.deletionTimestamp);
}

/** upstream's WaitForRunningAndReady: exactly `n` pods of the set, all Running and Ready. */
async function waitForRunningAndReady(namespace: string, ss: k8s.V1StatefulSet, n: number): Promise<k8s.V1Pod[]> {
  return waitFor(`${n} pods of ${ss.metadata!.name} running and ready`, async () => {
    const pods = await podsOf(namespace, ss.spec!.selector.matchLabels!);
    return pods.length === n && pods.every(isReady) ? pods : undefined;
  }, 180_000, 500);
}

async function deleteAllStatefulSets(namespace: string): Promise<void> {
  const list = await apps().listNamespacedStatefulSet({ namespace });
  for (const s of list.items) {
    await apps().patchNamespacedStatefulSetScale({ namespace, name: s.metadata!.name!, body: { spec: { replicas: 0 } } }, mergePatch).catch(() => undefined);
  }
  for (const s of list.items) await apps().deleteNamespacedStatefulSet({ namespace, name: s.metadata!.name! }).catch(() => undefined);
}

afterEach(async () => {
  await deleteAllStatefulSets(ns.name);
});

test('[sig-apps] StatefulSet Basic StatefulSet functionality [StatefulSetBasic] should have a working scale subresource', async () => {
  const namespace = ns.name;
  const labels = { foo: 'bar', baz: 'blah', sts: `scale-${rand()}` };
  await createHeadlessService(namespace, labels);
  const ss = await apps().createNamespacedStatefulSet({ namespace, body: statefulSet('ss', 1, labels) });
  await waitForRunningAndReady(namespace, ss, 1);

  // getting scale subresource
  const scale = await apps().readNamespacedStatefulSetScale({ namespace, name: 'ss' });
  expect(scale.spec?.replicas).toBe(1);
  expect(scale.status?.replicas).toBe(1);

  // updating a scale subresource
  scale.spec = { replicas: 2 };
  const updated = await apps().replaceNamespacedStatefulSetScale({ namespace, name: 'ss', body: scale });
  expect(updated.spec?.replicas).toBe(2);

  // verifying the statefulset Spec.Replicas was modified
  const got = await apps().readNamespacedStatefulSet({ namespace, name: 'ss' });
  expect(got.spec?.replicas).toBe(2);

  // Patch a scale subresource
  await apps().patchNamespacedStatefulSetScale({ namespace, name: 'ss', body: { spec: { replicas: 4 } } }, mergePatch);
  const patched = await apps().readNamespacedStatefulSet({ namespace, name: 'ss' });
  expect(patched.spec?.replicas).toBe(4);
  await waitForRunningAndReady(namespace, ss, 4);
});

test('[sig-apps] StatefulSet Basic StatefulSet functionality [StatefulSetBasic] should list, patch and delete a collection of StatefulSets', async () => {
  const namespace = ns.name;
  const ssName = 'test-ss';
  const labels = { e2e: 'testing', sts: `list-${rand()}` };
  await createHeadlessService(namespace, labels);
  const ss = await apps().createNamespacedStatefulSet({ namespace, body: statefulSet(ssName, 1, labels) });
  await waitForRunningAndReady(namespace, ss, 1);

  // Listing all StatefulSets
  const sel = `e2e=testing,sts=${labels.sts}`;
  const all = await apps().listStatefulSetForAllNamespaces({ labelSelector: sel });
  expect(all.items).toHaveLength(1);
  expect(all.items[0].metadata?.name).toBe(ssName);

  // Patching the StatefulSet: a label and the template (the upstream test also changes the image).
  const patched = await apps().patchNamespacedStatefulSet({
    namespace, name: ssName,
    body: { metadata: { labels: { 'test-ss': 'patched' } }, spec: { replicas: 2, template: { spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'webserver', env: [{ name: 'PATCHED', value: 'true' }] }] } } } },
  }, strategicMergePatch);
  expect(patched.metadata?.labels?.['test-ss']).toBe('patched');
  expect(patched.spec?.template.spec?.containers[0].env?.[0]?.value).toBe('true');
  await waitForRunningAndReady(namespace, ss, 2);

  // Delete all of the StatefulSets
  await apps().deleteCollectionNamespacedStatefulSet({ namespace, labelSelector: 'test-ss=patched' });
  // Verify that StatefulSets have been deleted
  await waitFor('statefulsets deleted', async () => (await apps().listNamespacedStatefulSet({ namespace, labelSelector: 'test-ss=patched' })).items.length === 0, 60_000);
});

test('[sig-apps] StatefulSet Basic StatefulSet functionality [StatefulSetBasic] should perform rolling updates and roll backs of template modifications', async () => {
  const namespace = ns.name;
  const labels = { sts: `roll-${rand()}` };
  const name = 'ss2';
  await createHeadlessService(namespace, labels);
  let ss = await apps().createNamespacedStatefulSet({ namespace, body: statefulSet(name, 3, labels) });
  let pods = await waitForRunningAndReady(namespace, ss, 3);

  ss = await waitFor('status revisions', async () => {
    const s = await apps().readNamespacedStatefulSet({ namespace, name });
    return s.status?.currentRevision && s.status.currentRevision === s.status.updateRevision && s.status.readyReplicas === 3 ? s : undefined;
  }, 60_000);
  const priorRevision = ss.status!.currentRevision!;
  for (const p of pods) expect(p.metadata?.labels?.['controller-revision-hash']).toBe(priorRevision);

  const selector = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
  const rollThrough = async (env: k8s.V1EnvVar[]): Promise<{ updateRevision: string; order: string[] }> => {
    const watch = await startWatch<k8s.V1Pod>(`/api/v1/namespaces/${namespace}/pods`, { labelSelector: selector });
    try {
      // Updating StatefulSet template (upstream changes the image; there is one image here, so an env var)
      const cur = await apps().readNamespacedStatefulSet({ namespace, name });
      cur.spec!.template.spec!.containers[0].env = env;
      await apps().replaceNamespacedStatefulSet({ namespace, name, body: cur });
      const withNew = await waitFor('a new update revision', async () => {
        const s = await apps().readNamespacedStatefulSet({ namespace, name });
        return s.status?.updateRevision && s.status.updateRevision !== s.status.currentRevision ? s : undefined;
      }, 60_000, 100);
      const updateRevision = withNew.status!.updateRevision!;
      // Updating Pods in reverse ordinal order
      const done = await waitFor('the rolling update to complete', async () => {
        const s = await apps().readNamespacedStatefulSet({ namespace, name });
        const ps = await podsOf(namespace, labels);
        const complete = ps.length === 3 && ps.every((p) => isReady(p) && p.metadata?.labels?.['controller-revision-hash'] === updateRevision) && s.status?.currentRevision === updateRevision && s.status?.updatedReplicas === 3;
        return complete ? { s, ps } : undefined;
      }, 180_000, 500);
      for (const p of done.ps) expect(JSON.stringify(p.spec?.containers[0].env ?? [])).toBe(JSON.stringify(env));
      expect(done.s.status?.currentRevision).toBe(updateRevision);
      const order: string[] = [];
      for (const e of watch.events) if (e.type === 'DELETED' && !order.includes(e.object.metadata!.name!)) order.push(e.object.metadata!.name!);
      return { updateRevision, order };
    } finally {
      watch.stop();
    }
  };

  const forward = await rollThrough([{ name: 'REVISION', value: 'two' }]);
  expect(forward.updateRevision).not.toBe(priorRevision);
  expect(forward.order).toEqual([`${name}-2`, `${name}-1`, `${name}-0`]);

  // Rolling back to a previous revision: the old template, the old revision name.
  const back = await rollThrough([]);
  expect(back.updateRevision).toBe(priorRevision);
  expect(back.order).toEqual([`${name}-2`, `${name}-1`, `${name}-0`]);
  pods = await podsOf(namespace, labels);
  for (const p of pods) expect(p.metadata?.labels?.['controller-revision-hash']).toBe(priorRevision);
});

// ---- DaemonSets ----

const DS_LABEL = 'daemonset-name';

function daemonSet(name: string, env: k8s.V1EnvVar[] = []): k8s.V1DaemonSet {
  const labels = { [DS_LABEL]: name };
  return {
    metadata: { name, labels },
    spec: {
      selector: { matchLabels: labels },
      updateStrategy: { type: 'RollingUpdate' },
      template: { metadata: { labels }, spec: { terminationGracePeriodSeconds: 1, containers: [{ ...webserver(env), name: 'app', ports: [{ containerPort: 9376 }] }] } },
    },
  };
}

async function schedulableNodes(): Promise<string[]> {
  const nodes = await core().listNode({});
  return nodes.items.filter((n) => !n.spec?.unschedulable && !(n.spec?.taints ?? []).some((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute')).map((n) => n.metadata!.name!);
}

/** upstream's checkRunningOnAllNodes: one available daemon pod on every schedulable node. */
async function waitRunningOnAllNodes(namespace: string, name: string, check: (p: k8s.V1Pod) => boolean = () => true): Promise<k8s.V1Pod[]> {
  return waitFor(`daemon pods of ${name} on every node`, async () => {
    const nodes = await schedulableNodes();
    const pods = (await podsOf(namespace, { [DS_LABEL]: name })).filter((p) => p.metadata?.ownerReferences?.some((o) => o.kind === 'DaemonSet' && o.controller));
    if (!nodes.length) return undefined;
    const ok = nodes.every((n) => pods.filter((p) => p.spec?.nodeName === n && isReady(p) && check(p)).length === 1);
    return ok && pods.length === nodes.length ? pods : undefined;
  }, 180_000, 500);
}

async function deleteDaemonSet(namespace: string, name: string): Promise<void> {
  await apps().deleteNamespacedDaemonSet({ namespace, name }).catch(() => undefined);
  await waitFor(`daemon pods of ${name} gone`, async () => (await podsOf(namespace, { [DS_LABEL]: name })).length === 0, 120_000, 500).catch(() => undefined);
}

test('[sig-apps] Daemon set [Serial] should run and stop simple daemon', async () => {
  const namespace = ns.name;
  const name = 'daemon-set';
  try {
    await apps().createNamespacedDaemonSet({ namespace, body: daemonSet(name) });
    // Check that daemon pods launch on every node of the cluster.
    const pods = await waitRunningOnAllNodes(namespace, name);
    // Stop a daemon pod, check that the daemon pod is revived.
    const victim = pods[0];
    await core().deleteNamespacedPod({ namespace, name: victim.metadata!.name! });
    await waitRunningOnAllNodes(namespace, name, (p) => p.metadata?.uid !== victim.metadata?.uid);
  } finally {
    await deleteDaemonSet(namespace, name);
  }
});

async function dsHistories(namespace: string, name: string): Promise<k8s.V1ControllerRevision[]> {
  return (await apps().listNamespacedControllerRevision({ namespace, labelSelector: `${DS_LABEL}=${name}` })).items;
}

test('[sig-apps] Daemon set [Serial] should update pod when spec was updated and update strategy is RollingUpdate', async () => {
  const namespace = ns.name;
  const name = 'daemon-set';
  try {
    await apps().createNamespacedDaemonSet({ namespace, body: daemonSet(name) });
    let pods = await waitRunningOnAllNodes(namespace, name);

    // Check history and labels
    let hist = await waitFor('1 history', async () => { const h = await dsHistories(namespace, name); return h.length === 1 ? h : undefined; }, 60_000);
    const firstHash = hist[0].metadata?.labels?.['controller-revision-hash'];
    expect(firstHash).toBeTruthy();
    expect(hist[0].revision).toBe(1);
    for (const p of pods) expect(p.metadata?.labels?.['controller-revision-hash']).toBe(firstHash);

    // Update daemon pods template (upstream: the image; here an env var, the one image there is)
    await apps().patchNamespacedDaemonSet({ namespace, name, body: { spec: { template: { spec: { containers: [{ name: 'app', env: [{ name: 'UPDATED', value: 'yes' }] }] } } } } }, strategicMergePatch);

    // Check that daemon pods have the new template and are running on every node
    pods = await waitRunningOnAllNodes(namespace, name, (p) => p.spec?.containers[0].env?.some((e) => e.name === 'UPDATED' && e.value === 'yes') ?? false);

    // Check history and labels
    hist = await waitFor('2 histories', async () => { const h = await dsHistories(namespace, name); return h.length === 2 ? h : undefined; }, 60_000);
    const cur = hist.reduce((a, b) => ((a.revision ?? 0) > (b.revision ?? 0) ? a : b));
    expect(cur.revision).toBe(2);
    const newHash = cur.metadata?.labels?.['controller-revision-hash'];
    expect(newHash).not.toBe(firstHash);
    for (const p of pods) expect(p.metadata?.labels?.['controller-revision-hash']).toBe(newHash);
    const ds = await waitFor('DaemonSet status updated', async () => {
      const d = await apps().readNamespacedDaemonSet({ namespace, name });
      const s = d.status;
      return s && s.desiredNumberScheduled === pods.length && s.updatedNumberScheduled === pods.length && s.numberAvailable === pods.length && s.numberReady === pods.length ? d : undefined;
    }, 60_000);
    expect(ds.status?.currentNumberScheduled).toBe(pods.length);
  } finally {
    await deleteDaemonSet(namespace, name);
  }
});

test('[sig-apps] Daemon set [Serial] should verify changes to a daemon set status', async () => {
  const namespace = ns.name;
  const name = 'daemon-set';
  try {
    await apps().createNamespacedDaemonSet({ namespace, body: daemonSet(name) });
    await waitRunningOnAllNodes(namespace, name);

    // listing all DaemonSets
    const all = await apps().listDaemonSetForAllNamespaces({ labelSelector: `${DS_LABEL}=${name}` });
    expect(all.items.some((d) => d.metadata?.namespace === namespace && d.metadata?.name === name)).toBe(true);

    const watch = await startWatch<k8s.V1DaemonSet>(`/apis/apps/v1/namespaces/${namespace}/daemonsets`, { labelSelector: `${DS_LABEL}=${name}` });
    try {
      // Getting /status
      const status = await apps().readNamespacedDaemonSetStatus({ namespace, name });
      expect(status.metadata?.name).toBe(name);
      // updating the DaemonSet Status
      status.status = { ...status.status!, conditions: [...(status.status?.conditions ?? []), { type: 'StatusUpdate', status: 'True', reason: 'E2E', message: 'Set from e2e test' }] };
      const updated = await apps().replaceNamespacedDaemonSetStatus({ namespace, name, body: status });
      expect(updated.status?.conditions?.some((c) => c.type === 'StatusUpdate' && c.reason === 'E2E')).toBe(true);
      // watching for the daemon set status to be updated
      await watch.waitForEvent((e) => e.type === 'MODIFIED' && !!e.object.status?.conditions?.some((c) => c.type === 'StatusUpdate' && c.status === 'True' && c.reason === 'E2E' && c.message === 'Set from e2e test'));

      // patching the DaemonSet Status
      await apps().patchNamespacedDaemonSetStatus({ namespace, name, body: { status: { conditions: [{ type: 'StatusPatched', status: 'True' }] } } }, mergePatch);
      // watching for the daemon set status to be patched
      await watch.waitForEvent((e) => e.type === 'MODIFIED' && !!e.object.status?.conditions?.some((c) => c.type === 'StatusPatched' && c.status === 'True'));
      const got = await apps().readNamespacedDaemonSetStatus({ namespace, name });
      expect(got.status?.conditions?.some((c) => c.type === 'StatusPatched')).toBe(true);
    } finally {
      watch.stop();
    }
  } finally {
    await deleteDaemonSet(namespace, name);
  }
});

test('[sig-apps] ControllerRevision [Serial] should manage the lifecycle of a ControllerRevision', async () => {
  const namespace = ns.name;
  const dsName = `e2e-${rand()}-daemon-set`;
  const dsLabelSelector = `${DS_LABEL}=${dsName}`;
  try {
    await apps().createNamespacedDaemonSet({ namespace, body: daemonSet(dsName) });
    await waitRunningOnAllNodes(namespace, dsName);

    // Confirm DaemonSet successfully created with the label
    const dsList = await apps().listDaemonSetForAllNamespaces({ labelSelector: dsLabelSelector });
    expect(dsList.items).toHaveLength(1);
    const ds = dsList.items[0];

    // Listing all ControllerRevisions with the label
    const revs = await waitFor('1 ControllerRevision', async () => {
      const r = await apps().listControllerRevisionForAllNamespaces({ labelSelector: dsLabelSelector });
      return r.items.length === 1 ? r : undefined;
    }, 60_000);
    const rev = revs.items[0];
    const oref = rev.metadata?.ownerReferences?.[0];
    expect(oref?.kind).toBe('DaemonSet');
    expect(oref?.uid).toBe(ds.metadata?.uid);
    const initialRevision = await apps().readNamespacedControllerRevision({ namespace, name: rev.metadata!.name! });
    const initialName = initialRevision.metadata!.name!;

    // Patching ControllerRevision
    const patched = await apps().patchNamespacedControllerRevision({ namespace, name: initialName, body: { metadata: { labels: { [initialName]: 'patched' } } } }, strategicMergePatch);
    expect(patched.metadata?.labels?.[initialName]).toBe('patched');

    // Create a new ControllerRevision
    const newHash = rand();
    await apps().createNamespacedControllerRevision({
      namespace,
      body: {
        metadata: {
          name: `${dsName}-${newHash}`,
          labels: { ...ds.spec!.template.metadata!.labels, 'controller-revision-hash': newHash },
          annotations: ds.metadata?.annotations,
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: dsName, uid: ds.metadata!.uid!, controller: true, blockOwnerDeletion: true }],
        },
        data: initialRevision.data,
        revision: (initialRevision.revision ?? 0) + 1,
      },
    });

    const count = (n: number) => waitFor(`${n} ControllerRevisions`, async () => (await apps().listNamespacedControllerRevision({ namespace, labelSelector: dsLabelSelector })).items.length === n, 60_000);
    // Confirm that there are two ControllerRevisions
    await count(2);

    // Deleting ControllerRevision
    await apps().deleteNamespacedControllerRevision({ namespace, name: initialName });
    // Confirm that there is only one ControllerRevision
    await count(1);

    const list = await apps().listNamespacedControllerRevision({ namespace, labelSelector: dsLabelSelector });
    const current = list.items[0];
    const currentName = current.metadata!.name!;

    // Updating ControllerRevision
    let updated: k8s.V1ControllerRevision | undefined;
    for (let attempt = 0; attempt < 5 && !updated; attempt++) {
      const cr = await apps().readNamespacedControllerRevision({ namespace, name: currentName });
      cr.metadata!.labels = { ...cr.metadata!.labels, [currentName]: 'updated' };
      updated = await apps().replaceNamespacedControllerRevision({ namespace, name: currentName, body: cr }).catch((e: { code?: number }) => {
        if (e.code === 409) return undefined;
        throw e;
      });
    }
    expect(updated?.metadata?.labels?.[currentName]).toBe('updated');

    // Generate another ControllerRevision by patching the Daemonset
    await apps().patchNamespacedDaemonSet({ namespace, name: dsName, body: { spec: { template: { spec: { terminationGracePeriodSeconds: 2 } } } } }, strategicMergePatch);
    // Confirm that there are two ControllerRevisions
    await count(2);

    // Removing a ControllerRevision via 'DeleteCollection' with the "updated" label
    await apps().deleteCollectionNamespacedControllerRevision({ namespace, labelSelector: `${currentName}=updated` });
    // Confirm that there is only one ControllerRevision
    await count(1);

    const last = await apps().listNamespacedControllerRevision({ namespace, labelSelector: dsLabelSelector });
    expect(last.items[0].revision).toBe(3);
  } finally {
    await deleteDaemonSet(namespace, dsName);
  }
});
