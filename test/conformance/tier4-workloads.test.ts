// Tier 4 of the conformance subset: Deployments, ReplicaSets, the garbage collector on
// Deployments, namespace deletion and the root-CA publisher. Each test re-states the upstream
// e2e test (test/e2e/apps/deployment.go, replica_set.go, apimachinery/garbage_collector.go,
// apimachinery/namespace.go, auth/service_accounts.go). Upstream gives every test its own
// namespace; so do these (created per test, deleted after the file).
import { randomBytes } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';
import {
  IMAGE, apps, core, mergePatch, sleep, startWatch, strategicMergePatch,
  useExtraNamespaces, useTestNamespace, waitFor, waitForPodPhase,
} from './framework.js';

const ns = useTestNamespace('workloads');
/** A fresh namespace for one test, as upstream's framework gives each test. */
const testNamespace = useExtraNamespaces();

const rand = (n = 5): string => randomBytes(8).toString('hex').slice(0, n);

// Stand-ins for upstream's images: a long-running container that exits promptly on SIGTERM.
const SERVE = ['sh', '-c', "trap 'exit 0' TERM; while true; do sleep 1; done"];
const SERVE2 = ['sh', '-c', "trap 'exit 0' TERM; while true; do sleep 2; done"];
const SERVE3 = ['sh', '-c', "trap 'exit 0' TERM; while true; do sleep 3; done"];

function container(name: string, command: string[] = SERVE, image = IMAGE): k8s.V1Container {
  return { name, image, imagePullPolicy: 'IfNotPresent', command };
}

/** upstream newRS(rsName, replicas, rsPodLabels, imageName, image, args) */
function newRS(name: string, replicas: number, podLabels: Record<string, string>, containerName: string, command: string[] = SERVE): k8s.V1ReplicaSet {
  return {
    metadata: { name, labels: { ...podLabels } },
    spec: {
      replicas,
      selector: { matchLabels: { ...podLabels } },
      template: {
        metadata: { labels: { ...podLabels } },
        spec: { terminationGracePeriodSeconds: 5, containers: [container(containerName, command)] },
      },
    },
  };
}

/** upstream e2edeployment.NewDeployment(name, replicas, podLabels, imageName, image, strategyType) */
function newDeployment(name: string, replicas: number, podLabels: Record<string, string>, containerName: string, strategy: 'RollingUpdate' | 'Recreate', command: string[] = SERVE): k8s.V1Deployment {
  return {
    metadata: { name, labels: { ...podLabels } },
    spec: {
      replicas,
      selector: { matchLabels: { ...podLabels } },
      strategy: { type: strategy },
      template: {
        metadata: { labels: { ...podLabels } },
        spec: { terminationGracePeriodSeconds: 0, containers: [container(containerName, command)] },
      },
    },
  };
}

const matches = (labels: Record<string, string> | undefined, selector: Record<string, string>): boolean =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/** upstream e2epod.VerifyPodsRunning(c, ns, name, false, replicas): pods labelled name=<name> exist and run. */
async function verifyPodsRunning(namespace: string, name: string, replicas: number): Promise<k8s.V1Pod[]> {
  return waitFor(`${replicas} running pods name=${name} in ${namespace}`, async () => {
    const pods = (await core().listNamespacedPod({ namespace, labelSelector: `name=${name}` })).items.filter((p) => !p.metadata?.deletionTimestamp);
    return pods.length === replicas && pods.every((p) => p.status?.phase === 'Running') ? pods : undefined;
  }, 120_000);
}

const controllerRefOf = (o: { metadata?: k8s.V1ObjectMeta }): k8s.V1OwnerReference | undefined =>
  o.metadata?.ownerReferences?.find((r) => r.controller);

const sameTemplate = (a: k8s.V1PodTemplateSpec | undefined, b: k8s.V1PodTemplateSpec | undefined): boolean => {
  const strip = (t: k8s.V1PodTemplateSpec | undefined) => {
    const labels = { ...(t?.metadata?.labels ?? {}) };
    delete labels['pod-template-hash'];
    return JSON.stringify({ labels, spec: t?.spec });
  };
  return strip(a) === strip(b);
};

/** upstream testutil.GetOldReplicaSets / GetNewReplicaSet: RSes controlled by the deployment, split by template. */
async function replicaSetsOf(d: k8s.V1Deployment): Promise<{ newRS?: k8s.V1ReplicaSet; old: k8s.V1ReplicaSet[] }> {
  const namespace = d.metadata!.namespace!;
  const all = (await apps().listNamespacedReplicaSet({ namespace })).items.filter((rs) => controllerRefOf(rs)?.uid === d.metadata?.uid);
  const newRS = all.find((rs) => sameTemplate(rs.spec?.template, d.spec?.template));
  return { newRS, old: all.filter((rs) => rs !== newRS) };
}

/** upstream e2edeployment.WaitForDeploymentRevisionAndImage */
async function waitForDeploymentRevisionAndContainer(namespace: string, name: string, revision: string, containerName: string): Promise<void> {
  await waitFor(`deployment ${name} at revision ${revision} with container ${containerName}`, async () => {
    const d = await apps().readNamespacedDeployment({ namespace, name });
    if (d.metadata?.annotations?.['deployment.kubernetes.io/revision'] !== revision) return false;
    if (d.spec?.template.spec?.containers[0].name !== containerName) return false;
    const { newRS } = await replicaSetsOf(d);
    if (!newRS) return false;
    return newRS.metadata?.annotations?.['deployment.kubernetes.io/revision'] === revision && newRS.spec?.template?.spec?.containers[0].name === containerName;
  }, 120_000);
}

/** upstream e2edeployment.WaitForDeploymentComplete */
async function waitForDeploymentComplete(namespace: string, name: string): Promise<k8s.V1Deployment> {
  return waitFor(`deployment ${name} complete`, async () => {
    const d = await apps().readNamespacedDeployment({ namespace, name });
    const want = d.spec?.replicas ?? 1;
    const s = d.status ?? {};
    return (s.updatedReplicas ?? 0) === want && (s.replicas ?? 0) === want && (s.availableReplicas ?? 0) === want
      && (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) ? d : undefined;
  }, 120_000);
}

describe('Deployments', () => {
  test('[sig-apps] Deployment should run the lifecycle of a Deployment', async () => {
    const namespace = await testNamespace('deployment');
    const name = 'test-deployment';
    const flat = 'test-deployment-static=true';
    const initialCmd = SERVE;
    const patchCmd = ['/bin/sleep', '100000'];
    const updateCmd = SERVE2;
    type D = k8s.V1Deployment;
    const list = await apps().listDeploymentForAllNamespaces({ labelSelector: flat });
    const w = await startWatch<D>('/apis/apps/v1/deployments', { labelSelector: flat, resourceVersion: list.metadata?.resourceVersion ?? '0' });
    const mine = (d: D) => d.metadata?.name === name && d.metadata?.namespace === namespace && d.metadata?.labels?.['test-deployment-static'] === 'true';
    try {
      // creating a Deployment
      const testDeployment = newDeployment(name, 2, { 'test-deployment-static': 'true' }, name, 'RollingUpdate', initialCmd);
      testDeployment.metadata!.labels = { 'test-deployment-static': 'true' };
      testDeployment.spec!.template.spec!.terminationGracePeriodSeconds = 1;
      await apps().createNamespacedDeployment({ namespace, body: testDeployment });
      // waiting for Deployment to be created
      await w.waitForEvent((e) => e.type === 'ADDED' && mine(e.object), 30_000);
      // waiting for all Replicas to be Ready
      await w.waitForEvent((e) => mine(e.object) && e.object.status?.readyReplicas === 2, 120_000);

      // patching the Deployment
      await apps().patchNamespacedDeployment({
        namespace, name,
        body: {
          metadata: { labels: { 'test-deployment': 'patched' } },
          spec: { replicas: 1, template: { spec: { terminationGracePeriodSeconds: 0, containers: [{ name, image: IMAGE, command: patchCmd }] } } },
        },
      }, strategicMergePatch);
      await w.waitForEvent((e) => e.type === 'MODIFIED' && mine(e.object), 30_000);
      // waiting for Replicas to scale
      await w.waitForEvent((e) => mine(e.object) && e.object.status?.readyReplicas === 1
        && e.object.spec?.template.spec?.containers[0].image === IMAGE
        && JSON.stringify(e.object.spec?.template.spec?.containers[0].command) === JSON.stringify(patchCmd), 120_000);

      // listing Deployments
      const listed = await apps().listDeploymentForAllNamespaces({ labelSelector: flat });
      expect(listed.items.some((d) => d.metadata?.name === name && d.metadata?.namespace === namespace && d.metadata?.labels?.['test-deployment-static'] === 'true')).toBe(true);

      // updating the Deployment (unconditional update, no resourceVersion, as upstream's dynamic client does)
      const update = newDeployment(name, 2, { 'test-deployment-static': 'true' }, name, 'RollingUpdate', updateCmd);
      update.metadata!.labels = { 'test-deployment-static': 'true', 'test-deployment': 'updated' };
      update.spec!.template.spec!.terminationGracePeriodSeconds = 1;
      await apps().replaceNamespacedDeployment({ namespace, name, body: update });
      await w.waitForEvent((e) => e.type === 'MODIFIED' && mine(e.object) && e.object.status?.readyReplicas === 2
        && JSON.stringify(e.object.spec?.template.spec?.containers[0].command) === JSON.stringify(updateCmd), 120_000);

      // fetching the DeploymentStatus
      let got = await apps().readNamespacedDeploymentStatus({ namespace, name });
      expect(got.spec?.template.spec?.containers[0].command).toEqual(updateCmd);
      expect(got.metadata?.labels).toHaveProperty('test-deployment', 'updated');
      await w.waitForEvent((e) => mine(e.object) && e.object.status?.readyReplicas === 2, 60_000);

      // patching the DeploymentStatus (label changes through /status are ignored)
      const eventsBefore = w.events.length;
      await apps().patchNamespacedDeploymentStatus({
        namespace, name,
        body: { metadata: { labels: { 'test-deployment': 'patched-status' } }, status: { readyReplicas: 0, availableReplicas: 0 } },
      }, strategicMergePatch);
      // fetching the DeploymentStatus
      got = await apps().readNamespacedDeploymentStatus({ namespace, name });
      expect(got.spec?.template.spec?.containers[0].command).toEqual(updateCmd);
      expect(got.metadata?.labels).toHaveProperty('test-deployment', 'updated');
      await waitFor('a MODIFIED event with readyReplicas 2 after the status patch', async () =>
        w.events.slice(eventsBefore).find((e) => e.type === 'MODIFIED' && mine(e.object) && e.object.status?.readyReplicas === 2
          && JSON.stringify(e.object.spec?.template.spec?.containers[0].command) === JSON.stringify(updateCmd)), 120_000);

      // deleting the Deployment
      await apps().deleteCollectionNamespacedDeployment({ namespace, labelSelector: flat, gracePeriodSeconds: 1 });
      await w.waitForEvent((e) => e.type === 'DELETED' && e.object.metadata?.name === name && e.object.metadata?.namespace === namespace, 60_000);
    } finally {
      w.stop();
    }
  });

  test('[sig-apps] Deployment RollingUpdateDeployment should delete old pods and create new ones', async () => {
    const namespace = await testNamespace('deployment');
    const deploymentPodLabels = { name: 'sample-pod' };
    const rsPodLabels = { name: 'sample-pod', pod: 'httpd' };
    const rsName = 'test-rolling-update-controller';
    const rsRevision = '3546343826724305832';
    const rs = newRS(rsName, 1, rsPodLabels, 'httpd');
    rs.metadata!.annotations = { 'deployment.kubernetes.io/revision': rsRevision };
    await apps().createNamespacedReplicaSet({ namespace, body: rs });
    await verifyPodsRunning(namespace, 'sample-pod', 1);

    const deploymentName = 'test-rolling-update-deployment';
    const d = newDeployment(deploymentName, 1, deploymentPodLabels, 'agnhost', 'RollingUpdate', SERVE2);
    await apps().createNamespacedDeployment({ namespace, body: d });
    await waitForDeploymentRevisionAndContainer(namespace, deploymentName, '3546343826724305833', 'agnhost');
    await waitForDeploymentComplete(namespace, deploymentName);
    // There should be 1 old RS (the adopted controller)
    const deployment = await apps().readNamespacedDeployment({ namespace, name: deploymentName });
    const { old } = await replicaSetsOf(deployment);
    expect(old).toHaveLength(1);
    expect(old[0].metadata?.name).toBe(rsName);
    await waitFor('old pods deleted', async () => {
      const pods = (await core().listNamespacedPod({ namespace, labelSelector: 'name=sample-pod' })).items;
      return pods.length === 1 && pods[0].spec?.containers[0].name === 'agnhost';
    }, 120_000);
  });

  test('[sig-apps] Deployment RecreateDeployment should delete old pods and create new ones', async () => {
    const namespace = await testNamespace('deployment');
    const deploymentName = 'test-recreate-deployment';
    const d = newDeployment(deploymentName, 1, { name: 'sample-pod-3' }, 'agnhost', 'Recreate', SERVE);
    d.spec!.template.spec!.terminationGracePeriodSeconds = 5;
    await apps().createNamespacedDeployment({ namespace, body: d });
    await waitForDeploymentRevisionAndContainer(namespace, deploymentName, '1', 'agnhost');
    await waitForDeploymentComplete(namespace, deploymentName);

    // Triggering a new rollout
    let updated: k8s.V1Deployment | undefined;
    for (let i = 0; i < 10 && !updated; i++) {
      const cur = await apps().readNamespacedDeployment({ namespace, name: deploymentName });
      cur.spec!.template.spec!.containers[0].name = 'httpd';
      cur.spec!.template.spec!.containers[0].command = SERVE2;
      updated = await apps().replaceNamespacedDeployment({ namespace, name: deploymentName, body: cur }).catch((err) => {
        if ((err as { code?: number }).code === 409) return undefined;
        throw err;
      });
    }
    expect(updated).toBeDefined();

    // watchRecreateDeployment: new pods must never run alongside old pods
    const w = await startWatch<k8s.V1Deployment>(`/apis/apps/v1/namespaces/${namespace}/deployments`, {
      fieldSelector: `metadata.name=${deploymentName}`, resourceVersion: updated!.metadata!.resourceVersion!,
    });
    // and, as a direct check, no new-template pod exists while an old one does
    const pw = await startWatch<k8s.V1Pod>(`/api/v1/namespaces/${namespace}/pods`, { labelSelector: 'name=sample-pod-3' });
    try {
      await waitFor('recreate rollout done', async () => {
        return w.events.some((e) => {
          const s = e.object.status ?? {};
          return e.object.spec?.replicas === s.replicas && e.object.spec?.replicas === s.updatedReplicas
            && (e.object.metadata?.generation ?? 0) <= (s.observedGeneration ?? 0);
        });
      }, 120_000);
      const alongside = w.events.find((e) => (e.object.status?.updatedReplicas ?? 0) > 0 && (e.object.status?.replicas ?? 0) !== e.object.status?.updatedReplicas);
      expect(alongside).toBeUndefined();
      await waitForDeploymentComplete(namespace, deploymentName);
      // pods: the first httpd pod was added only after every agnhost pod was deleted
      const firstNew = pw.events.findIndex((e) => e.object.spec?.containers[0].name === 'httpd');
      expect(firstNew).toBeGreaterThanOrEqual(0);
      const oldNames = new Set(pw.events.filter((e) => e.object.spec?.containers[0].name === 'agnhost').map((e) => e.object.metadata!.name!));
      const deletedBefore = new Set(pw.events.slice(0, firstNew).filter((e) => e.type === 'DELETED').map((e) => e.object.metadata!.name!));
      for (const n of oldNames) expect(deletedBefore.has(n)).toBe(true);
    } finally {
      w.stop();
      pw.stop();
    }
  });

  test('[sig-apps] Deployment Deployment should have a working scale subresource', async () => {
    const namespace = await testNamespace('deployment');
    const name = 'test-new-deployment';
    const d = newDeployment(name, 1, { name: 'httpd' }, 'httpd', 'RollingUpdate');
    await apps().createNamespacedDeployment({ namespace, body: d });
    await waitForDeploymentComplete(namespace, name);

    // getting scale subresource
    const scale = await apps().readNamespacedDeploymentScale({ namespace, name });
    expect(scale.spec?.replicas).toBe(1);
    expect(scale.status?.replicas).toBe(1);
    // updating a scale subresource (unconditionally)
    scale.metadata!.resourceVersion = '';
    scale.spec!.replicas = 2;
    const scaleResult = await apps().replaceNamespacedDeploymentScale({ namespace, name, body: scale });
    expect(scaleResult.spec?.replicas).toBe(2);
    // verifying the deployment Spec.Replicas was modified
    let got = await apps().readNamespacedDeployment({ namespace, name });
    expect(got.spec?.replicas).toBe(2);
    // Patch a scale subresource
    await apps().patchNamespacedDeploymentScale({ namespace, name, body: { metadata: {}, spec: { replicas: 4 }, status: { replicas: 0 } } }, strategicMergePatch);
    got = await apps().readNamespacedDeployment({ namespace, name });
    expect(got.spec?.replicas).toBe(4);
  });

  test('[sig-apps] Deployment should validate Deployment Status endpoints', async () => {
    const namespace = await testNamespace('deployment');
    const dName = `test-deployment-${rand()}`;
    const labelSelector = 'e2e=testing';
    const list = await apps().listNamespacedDeployment({ namespace, labelSelector });
    const w = await startWatch<k8s.V1Deployment>(`/apis/apps/v1/namespaces/${namespace}/deployments`, { labelSelector, resourceVersion: list.metadata?.resourceVersion ?? '0' });
    try {
      const d = newDeployment(dName, 1, { name: 'httpd', e2e: 'testing' }, 'httpd', 'RollingUpdate');
      await apps().createNamespacedDeployment({ namespace, body: d });
      await waitForDeploymentRevisionAndContainer(namespace, dName, '1', 'httpd');
      await waitForDeploymentComplete(namespace, dName);
      const testDeployment = await apps().readNamespacedDeployment({ namespace, name: dName });

      // Getting /status
      const st = await apps().readNamespacedDeploymentStatus({ namespace, name: dName });
      expect(st.metadata?.uid).toBe(testDeployment.metadata?.uid);

      // updating Deployment Status
      let updated: k8s.V1Deployment | undefined;
      for (let i = 0; i < 10 && !updated; i++) {
        const cur = await apps().readNamespacedDeployment({ namespace, name: dName });
        cur.status = cur.status ?? {};
        cur.status.conditions = [...(cur.status.conditions ?? []), { type: 'StatusUpdate', status: 'True', reason: 'E2E', message: 'Set from e2e test' }];
        updated = await apps().replaceNamespacedDeploymentStatus({ namespace, name: dName, body: cur }).catch((err) => {
          if ((err as { code?: number }).code === 409) return undefined;
          throw err;
        });
      }
      expect(updated).toBeDefined();
      const mine = (o: k8s.V1Deployment) => o.metadata?.name === dName && o.metadata?.namespace === namespace && o.metadata?.labels?.e2e === 'testing';
      // watching for the Deployment status to be updated
      await w.waitForEvent((e) => mine(e.object) && !!e.object.status?.conditions?.some((c) => c.type === 'StatusUpdate' && c.reason === 'E2E' && c.message === 'Set from e2e test'), 60_000);

      // Patching Deployment Status
      await apps().patchNamespacedDeploymentStatus({ namespace, name: dName, body: { status: { conditions: [{ type: 'StatusPatched', status: 'True' }] } } }, mergePatch);
      // watching for the Deployment status to be patched
      await w.waitForEvent((e) => mine(e.object) && !!e.object.status?.conditions?.some((c) => c.type === 'StatusPatched'), 60_000);
    } finally {
      w.stop();
    }
  });

  test('[sig-apps] Deployment deployment should support rollover', async () => {
    const namespace = await testNamespace('deployment');
    const podName = 'rollover-pod';
    const deploymentPodLabels = { name: podName };
    const rsPodLabels = { name: podName, pod: 'httpd' };
    const rsName = 'test-rollover-controller';
    await apps().createNamespacedReplicaSet({ namespace, body: newRS(rsName, 1, rsPodLabels, 'httpd') });
    await verifyPodsRunning(namespace, podName, 1);
    // Wait for replica set to become ready before adopting it.
    await waitFor(`replicaset ${rsName} ready`, async () => {
      const rs = await apps().readNamespacedReplicaSet({ namespace, name: rsName });
      return (rs.status?.readyReplicas ?? 0) === rs.spec?.replicas;
    }, 120_000);

    // A deployment with an image that does not exist, so that its rollout cannot finish
    const deploymentName = 'test-rollover-deployment';
    const deploymentImage = 'podium.local/gb-redisslave:nonexistent';
    const newD = newDeployment(deploymentName, 1, deploymentPodLabels, 'redis-slave', 'RollingUpdate');
    newD.spec!.template.spec!.containers[0].image = deploymentImage;
    newD.spec!.strategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } };
    newD.spec!.minReadySeconds = 10;
    await apps().createNamespacedDeployment({ namespace, body: newD });
    let deployment = await apps().readNamespacedDeployment({ namespace, name: deploymentName });
    // Make sure the deployment starts to scale up and down replica sets (updated replicas >= 1)
    await waitFor('updatedReplicas >= 1', async () => {
      const d = await apps().readNamespacedDeployment({ namespace, name: deploymentName });
      return (d.status?.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0) && (d.status?.updatedReplicas ?? 0) >= 1;
    }, 120_000);
    // Check if it's updated to revision 1 correctly
    deployment = await apps().readNamespacedDeployment({ namespace, name: deploymentName });
    expect(deployment.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    expect(deployment.spec?.template.spec?.containers[0].image).toBe(deploymentImage);
    // Ensure that both replica sets have 1 created replica
    const ensureReplicas = (rs: k8s.V1ReplicaSet, n: number) => {
      expect(rs.spec?.replicas).toBe(n);
      expect(rs.status?.replicas ?? 0).toBe(n);
    };
    const oldRS = await apps().readNamespacedReplicaSet({ namespace, name: rsName });
    ensureReplicas(oldRS, 1);
    const first = (await replicaSetsOf(deployment)).newRS;
    expect(first).toBeDefined();
    expect(first!.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    ensureReplicas(first!, 1);

    // The deployment is stuck: update it to roll over both ReplicaSets
    let updated: k8s.V1Deployment | undefined;
    for (let i = 0; i < 10 && !updated; i++) {
      const cur = await apps().readNamespacedDeployment({ namespace, name: deploymentName });
      cur.spec!.template.spec!.containers[0].name = 'agnhost';
      cur.spec!.template.spec!.containers[0].image = IMAGE;
      updated = await apps().replaceNamespacedDeployment({ namespace, name: deploymentName, body: cur }).catch((err) => {
        if ((err as { code?: number }).code === 409) return undefined;
        throw err;
      });
    }
    expect(updated).toBeDefined();
    await waitFor('deployment observed', async () => {
      const d = await apps().readNamespacedDeployment({ namespace, name: deploymentName });
      return (d.status?.observedGeneration ?? 0) >= (updated!.metadata?.generation ?? 0);
    }, 60_000);
    await waitForDeploymentRevisionAndContainer(namespace, deploymentName, '2', 'agnhost');
    await waitForDeploymentComplete(namespace, deploymentName);
    // Ensure that both old replica sets have no replicas
    await waitFor('old replica sets scaled to 0', async () => {
      const a = await apps().readNamespacedReplicaSet({ namespace, name: rsName });
      const b = await apps().readNamespacedReplicaSet({ namespace, name: first!.metadata!.name! });
      return a.spec?.replicas === 0 && (a.status?.replicas ?? 0) === 0 && b.spec?.replicas === 0 && (b.status?.replicas ?? 0) === 0;
    }, 60_000);
    ensureReplicas(await apps().readNamespacedReplicaSet({ namespace, name: rsName }), 0);
    ensureReplicas(await apps().readNamespacedReplicaSet({ namespace, name: first!.metadata!.name! }), 0);
  });

  test('[sig-apps] Deployment deployment should delete old replica sets', async () => {
    const namespace = await testNamespace('deployment');
    const deploymentPodLabels = { name: 'cleanup-pod' };
    const rsPodLabels = { name: 'cleanup-pod', pod: 'httpd' };
    const rsName = 'test-cleanup-controller';
    await apps().createNamespacedReplicaSet({ namespace, body: newRS(rsName, 1, rsPodLabels, 'httpd') });
    await verifyPodsRunning(namespace, 'cleanup-pod', 1);

    const deploymentName = 'test-cleanup-deployment';
    const pods = await core().listNamespacedPod({ namespace });
    const pw = await startWatch<k8s.V1Pod>(`/api/v1/namespaces/${namespace}/pods`, { resourceVersion: pods.metadata?.resourceVersion ?? '0' });
    try {
      const d = newDeployment(deploymentName, 1, deploymentPodLabels, 'agnhost', 'RollingUpdate', SERVE2);
      d.spec!.revisionHistoryLimit = 0;
      await apps().createNamespacedDeployment({ namespace, body: d });
      // Waiting for deployment history to be cleaned up
      await waitForDeploymentComplete(namespace, deploymentName);
      await waitFor('old replica sets cleaned up', async () => {
        const dep = await apps().readNamespacedDeployment({ namespace, name: deploymentName });
        const { old, newRS } = await replicaSetsOf(dep);
        const gone = await apps().readNamespacedReplicaSet({ namespace, name: rsName }).then(() => false, (err) => (err as { code?: number }).code === 404);
        return old.length === 0 && !!newRS && gone;
      }, 120_000);
      // There should be only one pod created, which is the pod of the new template: the old RS
      // must not create a pod when the deployment adds the pod-template-hash label to its selector.
      const added = pw.events.filter((e) => e.type === 'ADDED');
      expect(added.map((e) => e.object.spec?.containers[0].name)).toEqual(['agnhost']);
    } finally {
      pw.stop();
    }
  });
});

describe('ReplicaSets', () => {
  test('[sig-apps] ReplicaSet Replace and Patch tests', async () => {
    const namespace = await testNamespace('replicaset');
    const rsName = 'test-rs';
    const label = 'test-rs=patched';
    const patchCmd = SERVE3;
    const list = await apps().listReplicaSetForAllNamespaces({ labelSelector: label });
    const w = await startWatch<k8s.V1ReplicaSet>('/apis/apps/v1/replicasets', { labelSelector: label, resourceVersion: list.metadata?.resourceVersion ?? '0' });
    try {
      const rsPodLabels = { name: 'sample-pod', pod: 'httpd' };
      await apps().createNamespacedReplicaSet({ namespace, body: newRS(rsName, 1, rsPodLabels, rsName) });
      await verifyPodsRunning(namespace, 'sample-pod', 1);

      // Scaling up "test-rs" replicaset (replace)
      let scaled: k8s.V1ReplicaSet | undefined;
      for (let i = 0; i < 10 && !scaled; i++) {
        const cur = await apps().readNamespacedReplicaSet({ namespace, name: rsName });
        cur.spec!.replicas = 2;
        scaled = await apps().replaceNamespacedReplicaSet({ namespace, name: rsName, body: cur }).catch((err) => {
          if ((err as { code?: number }).code === 409) return undefined;
          throw err;
        });
      }
      expect(scaled?.spec?.replicas).toBe(2);
      await verifyPodsRunning(namespace, 'sample-pod', 2);

      // patching the ReplicaSet
      await apps().patchNamespacedReplicaSet({
        namespace, name: rsName,
        body: {
          metadata: { labels: { 'test-rs': 'patched' } },
          spec: { replicas: 3, template: { spec: { terminationGracePeriodSeconds: 0, containers: [{ name: rsName, image: IMAGE, command: patchCmd }] } } },
        },
      }, strategicMergePatch);
      await w.waitForEvent((e) => {
        const rs = e.object;
        return rs.metadata?.name === rsName && rs.metadata?.namespace === namespace && rs.metadata?.labels?.['test-rs'] === 'patched'
          && rs.status?.readyReplicas === 3 && rs.status?.availableReplicas === 3
          && rs.spec?.template?.spec?.containers[0].image === IMAGE
          && JSON.stringify(rs.spec?.template.spec?.containers[0].command) === JSON.stringify(patchCmd)
          && rs.spec?.template.spec?.terminationGracePeriodSeconds === 0;
      }, 120_000);
    } finally {
      w.stop();
    }
  });

  test('[sig-apps] ReplicaSet Replicaset should have a working scale subresource', async () => {
    const namespace = await testNamespace('replicaset');
    const rsName = 'test-rs';
    await apps().createNamespacedReplicaSet({ namespace, body: newRS(rsName, 1, { name: 'sample-pod', pod: 'httpd' }, 'httpd') });
    await verifyPodsRunning(namespace, 'sample-pod', 1);

    // getting scale subresource
    const scale = await waitFor('scale status.replicas 1', async () => {
      const s = await apps().readNamespacedReplicaSetScale({ namespace, name: rsName });
      return s.status?.replicas === 1 ? s : undefined;
    });
    expect(scale.spec?.replicas).toBe(1);
    expect(scale.status?.replicas).toBe(1);
    // updating a scale subresource
    scale.metadata!.resourceVersion = '';
    scale.spec!.replicas = 2;
    const result = await apps().replaceNamespacedReplicaSetScale({ namespace, name: rsName, body: scale });
    expect(result.spec?.replicas).toBe(2);
    // verifying the replicaset Spec.Replicas was modified
    let rs = await apps().readNamespacedReplicaSet({ namespace, name: rsName });
    expect(rs.spec?.replicas).toBe(2);
    // Patch a scale subresource
    await apps().patchNamespacedReplicaSetScale({ namespace, name: rsName, body: { metadata: {}, spec: { replicas: 4 }, status: { replicas: 0 } } }, strategicMergePatch);
    rs = await apps().readNamespacedReplicaSet({ namespace, name: rsName });
    expect(rs.spec?.replicas).toBe(4);
  });

  test('[sig-apps] ReplicaSet should adopt matching pods on creation and release no longer matching pods', async () => {
    const namespace = await testNamespace('replicaset');
    const name = 'pod-adoption-release';
    // Given a Pod with a 'name' label is created
    await core().createNamespacedPod({ namespace, body: { metadata: { name, labels: { name } }, spec: { terminationGracePeriodSeconds: 5, containers: [container(name)] } } });
    await waitForPodPhase(namespace, name, ['Running']);
    // When a replicaset with a matching selector is created
    const rsBody = newRS(name, 1, { name }, name);
    const rs = await apps().createNamespacedReplicaSet({ namespace, body: rsBody });
    // Then the orphan pod is adopted
    await waitFor('the orphan pod adopted', async () => {
      const p2 = await core().readNamespacedPod({ namespace, name }).catch((err) => {
        if ((err as { code?: number }).code === 404) return 'gone' as const;
        throw err;
      });
      if (p2 === 'gone') return true;
      return p2.metadata?.ownerReferences?.some((o) => o.controller && o.uid === rs.metadata?.uid) ?? false;
    }, 60_000);
    // When the matched label of one of its pods change
    const pods = await waitFor('1 pod created', async () => {
      const l = (await core().listNamespacedPod({ namespace, labelSelector: `name=${name}` })).items.filter((p) => !p.metadata?.deletionTimestamp);
      return l.length === 1 ? l : undefined;
    });
    const podName = pods[0].metadata!.name!;
    await waitFor('pod relabelled', async () => {
      const pod = await core().readNamespacedPod({ namespace, name: podName });
      pod.metadata!.labels = { name: 'not-matching-name' };
      return core().replaceNamespacedPod({ namespace, name: podName, body: pod }).then(() => true, (err) => {
        if ((err as { code?: number }).code === 409) return false;
        throw err;
      });
    }, 60_000);
    // Then the pod is released
    await waitFor('the pod released', async () => {
      const p2 = await core().readNamespacedPod({ namespace, name: podName });
      return !(p2.metadata?.ownerReferences ?? []).some((o) => o.controller && o.uid === rs.metadata?.uid);
    }, 60_000);
  });

  test('[sig-apps] ReplicaSet should list and delete a collection of ReplicaSets', async () => {
    const namespace = await testNamespace('replicaset');
    const rsName = 'test-rs';
    const e2eValue = rand();
    const rsPodLabels = { name: 'sample-pod', pod: 'httpd', e2e: e2eValue };
    await apps().createNamespacedReplicaSet({ namespace, body: newRS(rsName, 3, rsPodLabels, 'httpd') });
    await verifyPodsRunning(namespace, 'sample-pod', 3);
    await apps().readNamespacedReplicaSet({ namespace, name: rsName });
    // Listing all ReplicaSets
    let list = await apps().listReplicaSetForAllNamespaces({ labelSelector: `e2e=${e2eValue}` });
    expect(list.items).toHaveLength(1);
    // DeleteCollection of the ReplicaSets
    await apps().deleteCollectionNamespacedReplicaSet({ namespace, labelSelector: `e2e=${e2eValue}`, gracePeriodSeconds: 1 });
    // After DeleteCollection verify that ReplicaSets have been deleted
    list = await apps().listReplicaSetForAllNamespaces({ labelSelector: `e2e=${e2eValue}` });
    expect(list.items).toHaveLength(0);
  });

  test('[sig-apps] ReplicaSet should validate Replicaset Status endpoints', async () => {
    const namespace = await testNamespace('replicaset');
    const podName = 'sample-pod';
    const rsPodLabels = { name: podName, pod: 'httpd' };
    const labelSelector = 'name=sample-pod,pod=httpd';
    const rsName = 'test-rs';
    const list = await apps().listReplicaSetForAllNamespaces({ labelSelector });
    const w = await startWatch<k8s.V1ReplicaSet>('/apis/apps/v1/replicasets', { labelSelector, resourceVersion: list.metadata?.resourceVersion ?? '0' });
    try {
      const testReplicaSet = await apps().createNamespacedReplicaSet({ namespace, body: newRS(rsName, 1, rsPodLabels, 'httpd') });
      await verifyPodsRunning(namespace, podName, 1);
      // Getting /status
      const st = await apps().readNamespacedReplicaSetStatus({ namespace, name: rsName });
      expect(st.metadata?.uid).toBe(testReplicaSet.metadata?.uid);
      // updating the ReplicaSet Status
      let updated: k8s.V1ReplicaSet | undefined;
      for (let i = 0; i < 10 && !updated; i++) {
        const cur = await apps().readNamespacedReplicaSet({ namespace, name: rsName });
        cur.status = cur.status ?? { replicas: 0 };
        cur.status.conditions = [...(cur.status.conditions ?? []), { type: 'StatusUpdate', status: 'True', reason: 'E2E', message: 'Set from e2e test' }];
        updated = await apps().replaceNamespacedReplicaSetStatus({ namespace, name: rsName, body: cur }).catch((err) => {
          if ((err as { code?: number }).code === 409) return undefined;
          throw err;
        });
      }
      expect(updated).toBeDefined();
      const mine = (rs: k8s.V1ReplicaSet) => rs.metadata?.name === rsName && rs.metadata?.namespace === namespace && matches(rs.metadata?.labels, rsPodLabels);
      // watching for the ReplicaSet status to be updated
      await w.waitForEvent((e) => mine(e.object) && !!e.object.status?.conditions?.some((c) => c.type === 'StatusUpdate' && c.reason === 'E2E' && c.message === 'Set from e2e test'), 60_000);
      // patching the ReplicaSet Status
      await apps().patchNamespacedReplicaSetStatus({ namespace, name: rsName, body: { status: { conditions: [{ type: 'StatusPatched', status: 'True' }] } } }, mergePatch);
      // watching for the Replicaset status to be patched
      await w.waitForEvent((e) => mine(e.object) && !!e.object.status?.conditions?.some((c) => c.type === 'StatusPatched'), 60_000);
    } finally {
      w.stop();
    }
  });
});

describe('Garbage collector', () => {
  /** upstream newOwnerDeployment: 2 replicas with the unique labels */
  const ownerDeployment = (name: string, labels: Record<string, string>): k8s.V1Deployment => ({
    metadata: { name },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { terminationGracePeriodSeconds: 5, containers: [container('nginx')] } },
    },
  });

  async function counts(namespace: string): Promise<{ Deployments: number; ReplicaSets: number; Pods: number }> {
    return {
      Deployments: (await apps().listNamespacedDeployment({ namespace })).items.length,
      ReplicaSets: (await apps().listNamespacedReplicaSet({ namespace })).items.length,
      Pods: (await core().listNamespacedPod({ namespace })).items.length,
    };
  }

  test('[sig-api-machinery] Garbage collector should delete RS created by deployment when not orphaning', async () => {
    const namespace = await testNamespace('gc');
    const name = 'simpletest.deployment';
    const created = await apps().createNamespacedDeployment({ namespace, body: ownerDeployment(name, { gctest: 'delete_rs' }) });
    // Wait for the Deployment to create new ReplicaSet
    await waitFor('a ReplicaSet', async () => (await apps().listNamespacedReplicaSet({ namespace })).items.length > 0, 60_000, 1000);
    // delete the deployment
    await apps().deleteNamespacedDeployment({ namespace, name, body: { propagationPolicy: 'Background', preconditions: { uid: created.metadata!.uid! } } });
    // wait for all rs to be garbage collected
    let last = {};
    await waitFor('all rs garbage collected', async () => {
      const c = await counts(namespace);
      last = c;
      return c.Deployments === 0 && c.ReplicaSets === 0 && c.Pods === 0;
    }, 120_000, 1000).catch((err) => {
      throw new Error(`${(err as Error).message}; remaining ${JSON.stringify(last)}`);
    });
  });

  test('[sig-api-machinery] Garbage collector should orphan RS created by deployment when deleteOptions.PropagationPolicy is Orphan', async () => {
    const namespace = await testNamespace('gc');
    const name = 'simpletest.deployment';
    const created = await apps().createNamespacedDeployment({ namespace, body: ownerDeployment(name, { gctest: 'orphan_rs' }) });
    await waitFor('a ReplicaSet', async () => (await apps().listNamespacedReplicaSet({ namespace })).items.length > 0, 60_000, 1000);
    // wait until the RS has created both pods so the count below is meaningful
    await waitFor('2 pods', async () => (await core().listNamespacedPod({ namespace })).items.length === 2, 60_000);
    await apps().deleteNamespacedDeployment({ namespace, name, body: { propagationPolicy: 'Orphan', preconditions: { uid: created.metadata!.uid! } } });
    // wait for deployment deletion to see if the garbage collector mistakenly deletes the rs
    await waitFor('deployment gone, rs remaining', async () => {
      const c = await counts(namespace);
      return c.Deployments === 0 && c.ReplicaSets !== 0;
    }, 120_000, 1000);
    await sleep(2000);
    expect(await counts(namespace)).toEqual({ Deployments: 0, ReplicaSets: 1, Pods: 2 });
    const rs = (await apps().listNamespacedReplicaSet({ namespace })).items[0];
    expect((rs.metadata?.ownerReferences ?? []).filter((o) => o.uid === created.metadata?.uid)).toEqual([]);
    expect(rs.metadata?.deletionTimestamp).toBeUndefined();
  });
});

test('[sig-api-machinery] Namespaces [Serial] should ensure that all pods are removed when a namespace is deleted', async () => {
  // Creating a test namespace
  const namespaceName = `nsdeletetest-${rand(6)}`;
  await core().createNamespace({ body: { metadata: { name: namespaceName } } });
  try {
    await waitFor('default service account', () => core().readNamespacedServiceAccount({ namespace: namespaceName, name: 'default' }).then(() => true));
    // Creating a pod in the namespace
    const podName = 'test-pod';
    const pod = await core().createNamespacedPod({ namespace: namespaceName, body: { metadata: { name: podName }, spec: { containers: [container('nginx')] } } });
    await waitForPodPhase(namespaceName, podName, ['Running']);
    // Deleting the namespace
    await core().deleteNamespace({ name: namespaceName });
    // Waiting for the namespace to be removed.
    const maxWaitMs = (60 + (pod.spec?.terminationGracePeriodSeconds ?? 30)) * 1000;
    await waitFor(`namespace ${namespaceName} removed`, async () =>
      core().readNamespace({ name: namespaceName }).then(() => false, (err) => (err as { code?: number }).code === 404), maxWaitMs, 1000);
    // Recreating the namespace
    await core().createNamespace({ body: { metadata: { name: namespaceName } } });
    // Verifying there are no pods in the namespace
    await expect(core().readNamespacedPod({ namespace: namespaceName, name: podName })).rejects.toMatchObject({ code: 404 });
    expect((await core().listNamespacedPod({ namespace: namespaceName })).items).toHaveLength(0);
  } finally {
    await core().deleteNamespace({ name: namespaceName }).catch(() => undefined);
  }
});

test('[sig-auth] ServiceAccounts should guarantee kube-root-ca.crt exist in any namespace', async () => {
  const namespace = ns.name;
  const cmName = 'kube-root-ca.crt';
  await waitFor('root ca configmap', () => core().readNamespacedConfigMap({ namespace, name: cmName }).then(() => true), 30_000, 1000);
  await core().deleteNamespacedConfigMap({ namespace, name: cmName, gracePeriodSeconds: 0 });
  // waiting for a new root ca configmap created
  await waitFor('root ca configmap recreated', () => core().readNamespacedConfigMap({ namespace, name: cmName }).then(() => true), 30_000, 1000);
  // unconditional update with an empty ca.crt
  await core().replaceNamespacedConfigMap({ namespace, name: cmName, body: { metadata: { name: cmName }, data: { 'ca.crt': '' } } });
  // waiting for the root ca configmap reconciled
  await waitFor('root ca configmap reconciled', async () => {
    const cm = await core().readNamespacedConfigMap({ namespace, name: cmName });
    return !!cm.data?.['ca.crt'];
  }, 30_000, 1000);
});
