// Tier 3 of the conformance subset: pods on the Docker node agent, through the API and kubectl.
// Each test re-states the upstream e2e test of the same name (test/e2e/node/pods.go,
// test/e2e/common/node/*.go, test/e2e/kubectl/*.go) with busybox in place of agnhost/httpd.
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import WebSocket from 'ws';
import {
  IMAGE, core, kubeConfig, kubectl, mergePatch, sleep, startWatch, strategicMergePatch, useTestNamespace,
  waitFor, waitForPodPhase, waitForPodReady, podLog,
} from './framework.js';

const ns = useTestNamespace('pods');
const uid = (): string => randomBytes(4).toString('hex');
const zero = 0;

function busyboxPod(name: string, command: string[], extra: Partial<k8s.V1PodSpec> = {}, labels: Record<string, string> = {}): k8s.V1Pod {
  return {
    metadata: { name, labels },
    spec: {
      containers: [{ name: 'main', image: IMAGE, imagePullPolicy: 'IfNotPresent', command }],
      terminationGracePeriodSeconds: zero,
      ...extra,
    },
  };
}

/** upstream's e2epodoutput.TestContainerOutput: a restartPolicy Never pod must succeed and its log contain each expected string (or match each regexp). */
async function testContainerOutput(pod: k8s.V1Pod, expected: (string | RegExp)[]): Promise<string> {
  pod.spec!.restartPolicy = 'Never';
  await core().createNamespacedPod({ namespace: ns.name, body: pod });
  const done = await waitForPodPhase(ns.name, pod.metadata!.name!, ['Succeeded', 'Failed'], 180_000);
  const log = await podLog(ns.name, pod.metadata!.name!, pod.spec!.containers[0].name);
  expect({ phase: done.status?.phase, log }).toMatchObject({ phase: 'Succeeded' });
  for (const e of expected) {
    if (typeof e === 'string') expect(log).toContain(e);
    else expect(log).toMatch(e);
  }
  await core().deleteNamespacedPod({ namespace: ns.name, name: pod.metadata!.name!, gracePeriodSeconds: 0 }).catch(() => undefined);
  return log;
}

async function waitGone(name: string, timeoutMs = 120_000): Promise<void> {
  await waitFor(`pod ${ns.name}/${name} gone`, async () => {
    try {
      await core().readNamespacedPod({ namespace: ns.name, name });
      return false;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return true;
      throw err;
    }
  }, timeoutMs);
}

/** A websocket to the API server with the kubeconfig's client credentials. */
async function openWebSocket(path: string, protocols: string[]): Promise<WebSocket> {
  const kc = kubeConfig();
  const server = kc.getCurrentCluster()!.server.replace(/^http/, 'ws');
  const opts: WebSocket.ClientOptions = {};
  await kc.applyToHTTPSOptions(opts);
  const ws = new WebSocket(`${server}${path}`, protocols, opts);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`websocket upgrade refused: ${res.statusCode}`)));
  });
  return ws;
}

/** Every message until the server closes the socket. */
function collectMessages(ws: WebSocket, timeoutMs = 60_000): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const msgs: Buffer[] = [];
    const timer = setTimeout(() => { ws.terminate(); reject(new Error('websocket did not close in time')); }, timeoutMs);
    ws.on('message', (data: WebSocket.RawData) => {
      msgs.push(Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data));
    });
    ws.once('close', () => { clearTimeout(timer); resolve(msgs); });
    ws.once('error', (err) => { clearTimeout(timer); reject(err); });
  });
}

test('[sig-cli] Kubectl client Kubectl run pod should create a pod from an image when restart is Never', async () => {
  const name = 'e2e-test-httpd-pod';
  const r = await kubectl(['run', name, '--restart=Never', '--pod-running-timeout=2m0s', `--image=${IMAGE}`, '--image-pull-policy=IfNotPresent', '-n', ns.name, '--', 'sleep', '3600']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const pod = await core().readNamespacedPod({ namespace: ns.name, name });
  expect(pod.spec?.containers[0].image).toBe(IMAGE);
  expect(pod.spec?.restartPolicy).toBe('Never');
  const del = await kubectl(['delete', 'pods', name, '-n', ns.name, '--grace-period=0', '--force']);
  expect(del.code).toBe(0);
});

test('[sig-node] Pods should be submitted and removed', async () => {
  const name = `pod-submit-remove-${uid()}`;
  const value = String(Date.now());
  const selector = `time=${value}`;
  const pod = busyboxPod(name, ['sleep', '3600'], {}, { name: 'foo', time: value });
  pod.spec!.terminationGracePeriodSeconds = 30;

  // setting up watch
  const before = await core().listNamespacedPod({ namespace: ns.name, labelSelector: selector });
  expect(before.items).toHaveLength(0);
  const watch = await startWatch<k8s.V1Pod>(`/api/v1/namespaces/${ns.name}/pods`, { labelSelector: selector, resourceVersion: before.metadata!.resourceVersion! });
  try {
    // submitting the pod to kubernetes
    await core().createNamespacedPod({ namespace: ns.name, body: pod });
    // verifying the pod is in kubernetes
    const listed = await core().listNamespacedPod({ namespace: ns.name, labelSelector: selector });
    expect(listed.items).toHaveLength(1);
    // verifying pod creation was observed
    const added = await watch.waitForEvent((e) => e.type === 'ADDED' && e.object.metadata?.name === name);
    expect(added.object.metadata?.name).toBe(name);

    await waitForPodPhase(ns.name, name, ['Running']);

    // deleting the pod gracefully
    await core().deleteNamespacedPod({ namespace: ns.name, name, gracePeriodSeconds: 30 });

    // verifying the kubelet observed the termination notice
    const terminating = await watch.waitForEvent((e) => e.type === 'MODIFIED' && e.object.metadata?.deletionTimestamp !== undefined && e.object.metadata?.deletionGracePeriodSeconds !== undefined, 60_000);
    expect(terminating.object.metadata?.deletionTimestamp).toBeTruthy();

    // verifying pod deletion was observed
    const deleted = await watch.waitForEvent((e) => e.type === 'DELETED' && e.object.metadata?.name === name, 120_000);
    expect(deleted.object.metadata?.deletionTimestamp).toBeTruthy();
    expect(deleted.object.spec?.terminationGracePeriodSeconds).toBeGreaterThan(0);

    const after = await core().listNamespacedPod({ namespace: ns.name, labelSelector: selector });
    expect(after.items).toHaveLength(0);
  } finally {
    watch.stop();
  }
});

test('[sig-node] Pods should run through the lifecycle of Pods and PodStatus', async () => {
  const name = 'pod-test';
  const labelSelector = 'test-pod-static=true';
  const list0 = await core().listPodForAllNamespaces({ labelSelector });
  const watch = await startWatch<k8s.V1Pod>(`/api/v1/namespaces/${ns.name}/pods`, { labelSelector, resourceVersion: list0.metadata!.resourceVersion! });
  try {
    // creating a Pod with a static label
    const pod = busyboxPod(name, ['sleep', '3600'], { terminationGracePeriodSeconds: 1 }, { 'test-pod-static': 'true' });
    pod.spec!.containers[0].name = 'pod-test';
    await core().createNamespacedPod({ namespace: ns.name, body: pod });

    // watching for Pod to be ready
    await watch.waitForEvent((e) => e.type === 'ADDED' && e.object.metadata?.name === name);
    await watch.waitForEvent((e) => e.object.metadata?.name === name && e.object.status?.phase === 'Running'
      && (e.object.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'), 120_000);

    // patching the Pod with a new Label and updated data
    const patched = await core().patchNamespacedPod({
      namespace: ns.name, name,
      body: { metadata: { labels: { 'test-pod': 'patched' } }, spec: { containers: [{ name: 'pod-test', image: IMAGE }], activeDeadlineSeconds: 5000 } },
    }, strategicMergePatch);
    expect(patched.metadata?.labels?.['test-pod']).toBe('patched');
    await watch.waitForEvent((e) => e.type === 'MODIFIED' && e.object.metadata?.labels?.['test-pod'] === 'patched');

    // getting the Pod and ensuring that it's patched
    const got = await core().readNamespacedPod({ namespace: ns.name, name });
    expect(got.metadata?.labels?.['test-pod']).toBe('patched');
    expect(got.spec?.activeDeadlineSeconds).toBe(5000);

    // replacing the Pod's status Ready condition to False
    let updated: k8s.V1Pod | undefined;
    for (let attempt = 0; attempt < 5 && !updated; attempt++) {
      const status = await core().readNamespacedPodStatus({ namespace: ns.name, name });
      let count = 0;
      for (const c of status.status?.conditions ?? []) {
        if ((c.type === 'Ready' || c.type === 'ContainersReady') && c.status === 'True') {
          c.status = 'False';
          count++;
        }
      }
      expect(count).toBe(2);
      try {
        updated = await core().replaceNamespacedPodStatus({ namespace: ns.name, name, body: status });
      } catch (err) {
        if ((err as { code?: number }).code !== 409) throw err;
      }
    }
    // check the Pod again to ensure its Ready conditions are False
    const falseConds = (updated?.status?.conditions ?? []).filter((c) => (c.type === 'Ready' || c.type === 'ContainersReady') && c.status === 'False');
    expect(falseConds).toHaveLength(2);

    // deleting the Pod via a Collection with a LabelSelector
    await core().deleteCollectionNamespacedPod({ namespace: ns.name, labelSelector, gracePeriodSeconds: 1 });
    // watching for the Pod to be deleted
    await watch.waitForEvent((e) => e.type === 'DELETED' && e.object.metadata?.name === name, 120_000);
  } finally {
    watch.stop();
  }
});

test('[sig-node] Pods should be updated', async () => {
  const name = `pod-update-${uid()}`;
  const value = String(Date.now());
  await core().createNamespacedPod({ namespace: ns.name, body: busyboxPod(name, ['sleep', '3600'], {}, { name: 'foo', time: value }) });
  await waitForPodPhase(ns.name, name, ['Running']);
  // verifying the pod is in kubernetes
  const listed = await core().listNamespacedPod({ namespace: ns.name, labelSelector: `time=${value}` });
  expect(listed.items).toHaveLength(1);

  // updating the pod
  const newValue = `${value}-updated`;
  for (let attempt = 0; ; attempt++) {
    const pod = await core().readNamespacedPod({ namespace: ns.name, name });
    pod.metadata!.labels = { ...pod.metadata!.labels, time: newValue };
    try {
      await core().replaceNamespacedPod({ namespace: ns.name, name, body: pod });
      break;
    } catch (err) {
      if ((err as { code?: number }).code !== 409 || attempt > 5) throw err;
    }
  }
  await waitForPodPhase(ns.name, name, ['Running']);
  // verifying the updated pod is in kubernetes
  const updated = await core().listNamespacedPod({ namespace: ns.name, labelSelector: `time=${newValue}` });
  expect(updated.items).toHaveLength(1);
  expect(updated.items[0].metadata?.name).toBe(name);
  const old = await core().listNamespacedPod({ namespace: ns.name, labelSelector: `time=${value}` });
  expect(old.items).toHaveLength(0);
  await core().deleteNamespacedPod({ namespace: ns.name, name, gracePeriodSeconds: 0 });
});

test('[sig-node] Pods should patch a pod status', async () => {
  const name = `pod-patch-status-${uid()}`;
  await core().createNamespacedPod({ namespace: ns.name, body: busyboxPod(name, ['sleep', '3600']) });
  await waitForPodPhase(ns.name, name, ['Running']);
  // patching /status
  const patched = await core().patchNamespacedPodStatus({
    namespace: ns.name, name,
    body: { metadata: { annotations: { patchedstatus: 'true' } }, status: { message: 'Patched by e2e test', reason: 'E2E' } },
  }, mergePatch);
  expect(patched.metadata?.annotations?.patchedstatus).toBe('true');
  expect(patched.status?.message).toBe('Patched by e2e test');
  expect(patched.status?.reason).toBe('E2E');
  await core().deleteNamespacedPod({ namespace: ns.name, name, gracePeriodSeconds: 0 });
});

test('[sig-node] Pods should get a host IP', async () => {
  const name = `pod-hostip-${uid()}`;
  await core().createNamespacedPod({ namespace: ns.name, body: busyboxPod(name, ['sleep', '3600']) });
  await waitForPodPhase(ns.name, name, ['Running']);
  const pod = await waitFor('status.hostIP', async () => {
    const p = await core().readNamespacedPod({ namespace: ns.name, name });
    return p.status?.hostIP ? p : undefined;
  }, 60_000);
  expect(isIP(pod.status!.hostIP!)).not.toBe(0);
  if (pod.status?.hostIPs?.length) expect(pod.status.hostIPs[0].ip).toBe(pod.status.hostIP);
  await core().deleteNamespacedPod({ namespace: ns.name, name, gracePeriodSeconds: 0 });
});

test('[sig-cli] Kubectl logs logs should be able to retrieve and filter logs', async () => {
  const name = 'logs-generator';
  const container = 'logs-generator';
  // upstream: agnhost logs-generator --log-lines-total 100 --run-duration 20s
  const script = 'i=0; while [ $i -lt 100 ]; do echo "$i GET /api/v1/namespaces/kube-system"; i=$((i+1)); sleep 0.2; done; sleep 3600';
  const r = await kubectl(['run', name, `--image=${IMAGE}`, '--image-pull-policy=IfNotPresent', '--restart=Never', '-n', ns.name, '--', 'sh', '-c', script]);
  expect(r.code).toBe(0);
  await waitForPodReady(ns.name, name);
  // checking for matching strings
  await waitFor('log lines', async () => (await podLog(ns.name, name, container)).includes('/api/v1/namespaces/kube-system'), 60_000);

  // limiting log lines
  const tail = await kubectl(['logs', name, container, '-n', ns.name, '--tail=1']);
  expect(tail.code).toBe(0);
  expect(tail.stdout.length).toBeGreaterThan(0);
  expect(tail.stdout.split('\n').filter((l) => l !== '')).toHaveLength(1);

  // limiting log bytes
  const bytes = await kubectl(['logs', name, container, '-n', ns.name, '--limit-bytes=1']);
  expect(bytes.code).toBe(0);
  expect(bytes.stdout).toHaveLength(1);

  // exposing timestamps
  const ts = await kubectl(['logs', name, container, '-n', ns.name, '--tail=1', '--timestamps']);
  expect(ts.code).toBe(0);
  const tsLines = ts.stdout.split('\n').filter((l) => l !== '');
  expect(tsLines).toHaveLength(1);
  const words = tsLines[0].split(' ');
  expect(words.length).toBeGreaterThan(1);
  expect(words[0]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
  expect(Number.isNaN(Date.parse(words[0]))).toBe(false);

  // restricting to a time range
  await sleep(1500);
  const recent = await kubectl(['logs', name, container, '-n', ns.name, '--since=1s']);
  const older = await kubectl(['logs', name, container, '-n', ns.name, '--since=24h']);
  expect(recent.code).toBe(0);
  expect(older.code).toBe(0);
  expect(recent.stdout.split('\n').length).toBeLessThan(older.stdout.split('\n').length);

  await kubectl(['delete', 'pod', name, '-n', ns.name, '--grace-period=0', '--force']);
});

test('[sig-node] Kubelet when scheduling a busybox command in a pod should print the output to logs', async () => {
  const name = `busybox-scheduling-${uid()}`;
  await core().createNamespacedPod({ namespace: ns.name, body: busyboxPod(name, ['/bin/sh', '-c', 'echo \'Hello World\' ; sleep 240'], { restartPolicy: 'Never' }) });
  await waitFor('log "Hello World\\n"', async () => (await podLog(ns.name, name, 'main')) === 'Hello World\n', 120_000);
  await core().deleteNamespacedPod({ namespace: ns.name, name, gracePeriodSeconds: 0 });
});

test('[sig-node] Pods should support retrieving logs from the container over websockets', async () => {
  const name = `pod-logs-websocket-${uid()}`;
  await core().createNamespacedPod({ namespace: ns.name, body: busyboxPod(name, ['/bin/sh', '-c', 'echo container is alive; sleep 10000']) });
  await waitForPodPhase(ns.name, name, ['Running']);
  await waitFor('first log line', async () => (await podLog(ns.name, name, 'main')).includes('container is alive'), 60_000);
  const ws = await openWebSocket(`/api/v1/namespaces/${ns.name}/pods/${name}/log?container=main`, ['binary.k8s.io']);
  const msgs = await collectMessages(ws);
  let buf = '';
  for (const msg of msgs) {
    if (msg.toString('utf8').trim().length === 0) continue;
    buf += msg.toString('utf8');
  }
  expect(buf).toBe('container is alive\n');
  await core().deleteNamespacedPod({ namespace: ns.name, name, gracePeriodSeconds: 0 });
});

test('[sig-node] Pods should support remote command execution over websockets', async () => {
  const name = `pod-exec-websocket-${uid()}`;
  await core().createNamespacedPod({ namespace: ns.name, body: busyboxPod(name, ['/bin/sh', '-c', 'echo container is alive; sleep 600']) });
  await waitForPodPhase(ns.name, name, ['Running']);
  const query = 'command=cat&command=/etc/resolv.conf&container=main&stderr=1&stdout=1';
  const ws = await openWebSocket(`/api/v1/namespaces/${ns.name}/pods/${name}/exec?${query}`, ['channel.k8s.io']);
  const msgs = await collectMessages(ws);
  let buf = '';
  for (const msg of msgs) {
    if (msg.length === 0) continue;
    if (msg[0] !== 1) {
      // an empty message on a stream other than stdout is allowed
      expect(msg.length).toBe(1);
      continue;
    }
    buf += msg.subarray(1).toString('utf8');
  }
  expect(buf.length).toBeGreaterThan(0);
  expect(buf).toContain('nameserver');
  await core().deleteNamespacedPod({ namespace: ns.name, name, gracePeriodSeconds: 0 });
});

test('[sig-cli] Kubectl client Kubectl label should update the label on a resource', async () => {
  const name = 'pause';
  const manifest = JSON.stringify({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, labels: { name } },
    spec: { terminationGracePeriodSeconds: 0, containers: [{ name, image: IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] },
  });
  const created = await kubectl(['create', '-f', '-', '-n', ns.name], { input: manifest });
  expect(created.code).toBe(0);
  await waitForPodReady(ns.name, name);

  const labelName = 'testing-label';
  const labelValue = 'testing-label-value';
  // adding the label testing-label with value testing-label-value to a pod
  const add = await kubectl(['label', 'pods', name, `${labelName}=${labelValue}`, '-n', ns.name]);
  expect(add.code).toBe(0);
  // verifying the pod has the label testing-label with the value testing-label-value
  const got = await kubectl(['get', 'pod', name, '-L', labelName, '-n', ns.name]);
  expect(got.code).toBe(0);
  expect(got.stdout).toContain(labelValue);
  const sel = await kubectl(['get', 'pods', '-l', `${labelName}=${labelValue}`, '-o', 'name', '-n', ns.name]);
  expect(sel.stdout.trim()).toBe(`pod/${name}`);

  // removing the label testing-label of a pod
  const remove = await kubectl(['label', 'pods', name, `${labelName}-`, '-n', ns.name]);
  expect(remove.code).toBe(0);
  // verifying the pod doesn't have the label testing-label
  const got2 = await kubectl(['get', 'pod', name, '-L', labelName, '-n', ns.name]);
  expect(got2.code).toBe(0);
  expect(got2.stdout).not.toContain(labelValue);
  const sel2 = await kubectl(['get', 'pods', '-l', labelName, '-o', 'name', '-n', ns.name]);
  expect(sel2.stdout.trim()).toBe('');

  await kubectl(['delete', 'pod', name, '-n', ns.name, '--grace-period=0', '--force']);
});

test('[sig-cli] Kubectl client Kubectl replace should update a single-container pod\'s image', async () => {
  const name = 'e2e-test-httpd-pod';
  // running the image (upstream: httpd, replaced by busybox)
  const run = await kubectl(['run', name, `--image=${IMAGE}`, '--image-pull-policy=IfNotPresent', '--pod-running-timeout=2m0s', `--labels=run=${name}`, '-n', ns.name, '--', 'sleep', '3600']);
  expect(run.code).toBe(0);
  // verifying the pod e2e-test-httpd-pod is running
  await waitForPodReady(ns.name, name);
  const json = await kubectl(['get', 'pod', name, '-n', ns.name, '-o', 'json']);
  expect(json.code).toBe(0);
  expect(json.stdout).toContain(name);

  // replace the image in the pod (only one image exists locally: a second name for it)
  const newImage = 'podium.local/busybox:1.35-replaced';
  const podJson = json.stdout.replace(`"image": "${IMAGE}"`, `"image": "${newImage}"`);
  expect(podJson).not.toBe(json.stdout);
  const replaced = await kubectl(['replace', '-f', '-', '-n', ns.name], { input: podJson });
  expect(replaced.code).toBe(0);

  // verifying the pod e2e-test-httpd-pod has the right image
  const pod = await core().readNamespacedPod({ namespace: ns.name, name });
  expect(pod.spec?.containers).toHaveLength(1);
  expect(pod.spec?.containers[0].image).toBe(newImage);

  await kubectl(['delete', 'pods', name, '-n', ns.name, '--grace-period=0', '--force']);
});

test('[sig-node] Container Runtime blackbox test when starting a container that exits should run with the expected status', async () => {
  const cases: { name: string; restartPolicy: string; phase: string; state: 'running' | 'terminated'; restartCount: number; ready: boolean }[] = [
    { name: 'terminate-cmd-rpa', restartPolicy: 'Always', phase: 'Running', state: 'running', restartCount: 2, ready: true },
    { name: 'terminate-cmd-rpof', restartPolicy: 'OnFailure', phase: 'Succeeded', state: 'terminated', restartCount: 1, ready: false },
    { name: 'terminate-cmd-rpn', restartPolicy: 'Never', phase: 'Failed', state: 'terminated', restartCount: 0, ready: false },
  ];
  // It failed at the 1st run, then succeeded at 2nd run, then run forever
  const script = `
f=/restart-count/restartCount
count=$(echo 'hello' >> $f ; wc -l $f | awk {'print $1'})
if [ $count -eq 1 ]; then
	exit 1
fi
if [ $count -eq 2 ]; then
	exit 0
fi
while true; do sleep 1; done
`;
  // the three cases run side by side (upstream runs them one after another; same checks)
  await Promise.all(cases.map(async (tc) => {
    const podName = `${tc.name}-${uid()}`;
    await core().createNamespacedPod({
      namespace: ns.name,
      body: {
        metadata: { name: podName },
        spec: {
          restartPolicy: tc.restartPolicy,
          terminationGracePeriodSeconds: 0,
          volumes: [{ name: 'restart-count', emptyDir: { medium: 'Memory' } }],
          containers: [{ name: tc.name, image: IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', script], volumeMounts: [{ mountPath: '/restart-count', name: 'restart-count' }] }],
        },
      },
    });
    const read = (): Promise<k8s.V1Pod> => core().readNamespacedPod({ namespace: ns.name, name: podName });
    // should get the expected 'RestartCount'
    await waitFor(`${tc.name} restartCount ${tc.restartCount}`, async () => (await read()).status?.containerStatuses?.[0]?.restartCount === tc.restartCount, 180_000);
    // should get the expected 'Phase'
    await waitFor(`${tc.name} phase ${tc.phase}`, async () => (await read()).status?.phase === tc.phase, 180_000);
    const pod = tc.ready ? await waitForPodReady(ns.name, podName, 60_000) : await read();
    // should get the expected 'Ready' condition
    const ready = (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
    expect({ name: tc.name, ready }).toEqual({ name: tc.name, ready: tc.ready });
    // should get the expected 'State'
    const st = pod.status!.containerStatuses![0].state!;
    const state = st.running ? 'running' : st.terminated ? 'terminated' : 'waiting';
    expect({ name: tc.name, state }).toEqual({ name: tc.name, state: tc.state });
    expect(pod.status!.containerStatuses![0].restartCount).toBe(tc.restartCount);
    // should be possible to delete
    await core().deleteNamespacedPod({ namespace: ns.name, name: podName, gracePeriodSeconds: 0 });
    await waitGone(podName);
  }));
});

test('[sig-node] Containers should be able to override the image\'s default command and arguments', async () => {
  // upstream: agnhost entrypoint-tester prints its argv; here a shell prints $0 and its arguments
  const pod = busyboxPod(`client-containers-${uid()}`, ['sh', '-c', 'echo "[$0 $*]"', 'entrypoint-tester']);
  pod.spec!.containers[0].args = ['override', 'arguments'];
  await testContainerOutput(pod, ['[entrypoint-tester override arguments]']);
});

test('[sig-node] ConfigMap should be consumable via environment variable', async () => {
  const cmName = `configmap-test-${uid()}`;
  await core().createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: cmName }, data: { 'data-1': 'value-1', 'data-2': 'value-2', 'data-3': 'value-3' } } });
  const pod = busyboxPod(`pod-configmaps-${uid()}`, ['sh', '-c', 'env']);
  pod.spec!.containers[0].name = 'env-test';
  pod.spec!.containers[0].env = [{ name: 'CONFIG_DATA_1', valueFrom: { configMapKeyRef: { name: cmName, key: 'data-1' } } }];
  await testContainerOutput(pod, ['CONFIG_DATA_1=value-1']);
});

test('[sig-node] Secrets should be consumable from pods in env vars', async () => {
  const secretName = `secret-test-${uid()}`;
  await core().createNamespacedSecret({
    namespace: ns.name,
    body: { metadata: { name: secretName }, data: { 'data-1': Buffer.from('value-1').toString('base64'), 'data-2': Buffer.from('value-2').toString('base64'), 'data-3': Buffer.from('value-3').toString('base64') } },
  });
  const pod = busyboxPod(`pod-secrets-${uid()}`, ['sh', '-c', 'env']);
  pod.spec!.containers[0].name = 'secret-env-test';
  pod.spec!.containers[0].env = [{ name: 'SECRET_DATA', valueFrom: { secretKeyRef: { name: secretName, key: 'data-1' } } }];
  await testContainerOutput(pod, ['SECRET_DATA=value-1']);
});

test('[sig-node] Variable Expansion should allow composing env vars into new env vars', async () => {
  const pod = busyboxPod(`var-expansion-${uid()}`, ['sh', '-c', 'env']);
  pod.spec!.containers[0].name = 'dapi-container';
  pod.spec!.containers[0].env = [
    { name: 'FOO', value: 'foo-value' },
    { name: 'BAR', value: 'bar-value' },
    { name: 'FOOBAR', value: '$(FOO);;$(BAR)' },
  ];
  await testContainerOutput(pod, ['FOO=foo-value', 'BAR=bar-value', 'FOOBAR=foo-value;;bar-value']);
});

test('[sig-node] Downward API should provide pod name, namespace and IP address as env vars', async () => {
  const podName = `downward-api-${uid()}`;
  const pod = busyboxPod(podName, ['sh', '-c', 'env']);
  pod.spec!.containers[0].name = 'dapi-container';
  pod.spec!.containers[0].env = [
    { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
    { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } } },
    { name: 'POD_IP', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } },
  ];
  await testContainerOutput(pod, [
    new RegExp(`POD_NAME=${podName}`),
    new RegExp(`POD_NAMESPACE=${ns.name}`),
    /POD_IP=(?:\d+)\.(?:\d+)\.(?:\d+)\.(?:\d+)/,
  ]);
});
