// Tier 8 of the conformance subset: container behaviour on the node agent — service-account
// tokens, init containers, probes, lifecycle hooks, volumes and envFrom. Each test re-states the
// upstream e2e test of the same name (test/e2e/auth/service_accounts.go, test/e2e/common/node/*,
// test/e2e/common/storage/*) with busybox commands in place of agnhost.
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import {
  IMAGE, core, kubeConfig, kubectl, sleep, startWatch, useTestNamespace, waitFor, waitForPodPhase, podLog,
} from './framework.js';

const ns = useTestNamespace('containers');
const uid = (): string => randomBytes(4).toString('hex');

function busyboxPod(name: string, command: string[], extra: Partial<k8s.V1PodSpec> = {}): k8s.V1Pod {
  return {
    metadata: { name },
    spec: {
      containers: [{ name: 'main', image: IMAGE, imagePullPolicy: 'IfNotPresent', command }],
      terminationGracePeriodSeconds: 0,
      ...extra,
    },
  };
}

/** upstream's e2epodoutput.TestContainerOutput: a restartPolicy Never pod must succeed and its log contain each expected string. */
async function testContainerOutput(pod: k8s.V1Pod, expected: string[]): Promise<string> {
  pod.spec!.restartPolicy = 'Never';
  await core().createNamespacedPod({ namespace: ns.name, body: pod });
  const done = await waitForPodPhase(ns.name, pod.metadata!.name!, ['Succeeded', 'Failed'], 180_000);
  const log = await podLog(ns.name, pod.metadata!.name!, pod.spec!.containers[0].name);
  expect({ phase: done.status?.phase, log }).toMatchObject({ phase: 'Succeeded' });
  for (const e of expected) expect(log).toContain(e);
  await core().deleteNamespacedPod({ namespace: ns.name, name: pod.metadata!.name!, gracePeriodSeconds: 0 }).catch(() => undefined);
  return log;
}

/** upstream's ExecShellInContainer / ReadFileViaContainer: kubectl exec, stdout. */
async function execInContainer(pod: string, container: string, command: string[]): Promise<string> {
  const r = await kubectl(['exec', pod, '-c', container, '-n', ns.name, '--', ...command]);
  if (r.code !== 0) throw new Error(`kubectl exec ${command.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

const restartCount = (p: k8s.V1Pod): number => p.status?.containerStatuses?.[0]?.restartCount ?? 0;
const isReady = (p: k8s.V1Pod): boolean => (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/**
 * upstream's RunLivenessTest: the pod leaves Pending, starts with restartCount 0, and within the
 * observation window reaches exactly `expectRestarts` (0: never restarts during the window).
 */
async function runLivenessTest(pod: k8s.V1Pod, expectRestarts: number, observeMs: number): Promise<void> {
  const name = pod.metadata!.name!;
  await core().createNamespacedPod({ namespace: ns.name, body: pod });
  await waitFor(`pod ${name} not pending`, async () => (await core().readNamespacedPod({ namespace: ns.name, name })).status?.phase !== 'Pending', 120_000);
  const initial = restartCount(await core().readNamespacedPod({ namespace: ns.name, name }));
  expect(initial).toBe(0);
  const deadline = Date.now() + observeMs;
  let observed = initial;
  while (Date.now() < deadline) {
    const p = await core().readNamespacedPod({ namespace: ns.name, name });
    observed = restartCount(p);
    if (observed > expectRestarts) break;
    if (expectRestarts > 0 && observed >= expectRestarts) break;
    await sleep(2000);
  }
  expect(observed).toBe(expectRestarts);
  await core().deleteNamespacedPod({ namespace: ns.name, name, gracePeriodSeconds: 0 }).catch(() => undefined);
}

test('[sig-auth] ServiceAccounts should mount an API token into pods', async () => {
  const sa = await core().createNamespacedServiceAccount({ namespace: ns.name, body: { metadata: { name: 'mount-test' } } });
  const name = `pod-service-account-${uid()}`;
  await core().createNamespacedPod({
    namespace: ns.name,
    body: {
      metadata: { name },
      spec: {
        serviceAccountName: sa.metadata!.name!,
        containers: [{ name: 'test', image: IMAGE, imagePullPolicy: 'IfNotPresent', command: ['/bin/sleep', '100000'] }],
        terminationGracePeriodSeconds: 0,
        restartPolicy: 'Never',
      },
    },
  });
  await waitForPodPhase(ns.name, name, ['Running']);
  const base = '/var/run/secrets/kubernetes.io/serviceaccount';
  const mountedToken = await execInContainer(name, 'test', ['cat', `${base}/token`]);
  const mountedCA = await execInContainer(name, 'test', ['cat', `${base}/ca.crt`]);
  const mountedNamespace = await execInContainer(name, 'test', ['cat', `${base}/namespace`]);

  // CA and namespace should be identical
  const rootCA = await core().readNamespacedConfigMap({ namespace: ns.name, name: 'kube-root-ca.crt' });
  expect(mountedCA).toBe(rootCA.data?.['ca.crt']);
  expect(mountedNamespace).toBe(ns.name);

  // Token should be a valid credential that identifies the pod's service account
  const review = await kubeConfig().makeApiClient(k8s.AuthenticationV1Api).createTokenReview({
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: mountedToken } },
  });
  expect(review.status?.authenticated).toBe(true);
  expect(review.status?.error ?? '').toBe('');
  expect(review.status?.user?.username).toBe(`system:serviceaccount:${ns.name}:${sa.metadata!.name}`);
  expect(review.status?.user?.uid).toBe(sa.metadata!.uid);
  await core().deleteNamespacedPod({ namespace: ns.name, name, gracePeriodSeconds: 0 });
});

test('[sig-node] InitContainer [NodeConformance] should invoke init containers on a RestartAlways pod', async () => {
  const name = `pod-init-${uid()}`;
  const pod: k8s.V1Pod = {
    metadata: { name, labels: { name: 'foo', time: String(Date.now()) } },
    spec: {
      terminationGracePeriodSeconds: 0,
      initContainers: [
        { name: 'init1', image: IMAGE, imagePullPolicy: 'IfNotPresent', command: ['/bin/true'] },
        { name: 'init2', image: IMAGE, imagePullPolicy: 'IfNotPresent', command: ['/bin/true'] },
      ],
      containers: [{ name: 'run1', image: IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'], resources: { limits: { cpu: '100m' } } }],
    },
  };
  const started = await core().createNamespacedPod({ namespace: ns.name, body: pod });
  expect(started.spec?.restartPolicy).toBe('Always');
  const watch = await startWatch<k8s.V1Pod>(`/api/v1/namespaces/${ns.name}/pods`, { fieldSelector: `metadata.name=${name}`, resourceVersion: started.metadata!.resourceVersion! });
  try {
    const event = await watch.waitForEvent((e) => {
      const phase = e.object.status?.phase;
      if (phase === 'Failed' || phase === 'Succeeded') throw new Error(`pod ended in ${phase}`);
      return phase === 'Running';
    }, 120_000);
    // containerInitInvariant over every observed state
    checkInitInvariants(watch.events.map((e) => e.object));
    const endPod = event.object;
    expect(endPod.status?.phase).toBe('Running');
    const init = endPod.status?.conditions?.find((c) => c.type === 'Initialized');
    expect(init).toBeDefined();
    expect(init?.status).toBe('True');
    expect(endPod.status?.initContainerStatuses).toHaveLength(2);
    for (const s of endPod.status!.initContainerStatuses!) {
      expect({ name: s.name, ready: s.ready }).toEqual({ name: s.name, ready: true });
      expect(s.state?.terminated).toBeDefined();
      expect(s.state?.terminated?.exitCode).toBe(0);
    }
    // the app container keeps running (restartPolicy Always)
    await sleep(3000);
    const later = await core().readNamespacedPod({ namespace: ns.name, name });
    expect(later.status?.phase).toBe('Running');
    expect(later.status?.containerStatuses?.[0]?.state?.running).toBeDefined();
  } finally {
    watch.stop();
  }
  await core().deleteNamespacedPod({ namespace: ns.name, name, gracePeriodSeconds: 0 });
});

/** upstream's containerInitInvariant: init containers run in order, before the app containers, and once initialized a pod stays so. */
function checkInitInvariants(states: k8s.V1Pod[]): void {
  let wasInitialized = false;
  for (const p of states) {
    const initialized = (p.status?.conditions ?? []).some((c) => c.type === 'Initialized' && c.status === 'True');
    if (wasInitialized) expect(initialized).toBe(true);
    wasInitialized ||= initialized;
    const inits = p.status?.initContainerStatuses ?? [];
    // an init container may only have started once every earlier one terminated successfully
    for (let i = 1; i < inits.length; i++) {
      const started = inits[i].state?.running || inits[i].state?.terminated;
      if (started) expect(inits[i - 1].state?.terminated?.exitCode).toBe(0);
    }
    const appRunning = (p.status?.containerStatuses ?? []).some((c) => c.state?.running || c.state?.terminated);
    if (appRunning) {
      for (const s of inits) expect(s.state?.terminated?.exitCode).toBe(0);
    }
  }
}

test('[sig-node] Probing container should be restarted with a /healthz http liveness probe', async () => {
  // upstream: agnhost liveness serves /healthz with 200 for 10 s, then 500
  const script = 'mkdir -p /www && echo ok > /www/healthz && httpd -p 8080 -h /www && sleep 10 && rm /www/healthz && sleep 3600';
  const pod = busyboxPod(`liveness-${uid()}`, ['sh', '-c', script]);
  pod.spec!.containers[0].name = 'agnhost-container';
  pod.spec!.containers[0].livenessProbe = { httpGet: { path: '/healthz', port: 8080 }, initialDelaySeconds: 15, failureThreshold: 1 };
  await runLivenessTest(pod, 1, 120_000);
});

test('[sig-node] Probing container should *not* be restarted with a /healthz http liveness probe', async () => {
  // upstream: a web server on port 80 probed at / (initialDelay 15 s, timeout 5 s, failureThreshold 5)
  const script = 'mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 80 -h /www';
  const pod = busyboxPod(`test-webserver-${uid()}`, ['sh', '-c', script]);
  pod.spec!.containers[0].name = 'test-webserver';
  pod.spec!.containers[0].ports = [{ containerPort: 80 }];
  pod.spec!.containers[0].livenessProbe = { httpGet: { path: '/', port: 80 }, initialDelaySeconds: 15, timeoutSeconds: 5, failureThreshold: 5, periodSeconds: 2 };
  await runLivenessTest(pod, 0, 40_000);
});

test('[sig-node] Probing container with readiness probe that fails should never be ready and never restart', async () => {
  const script = 'mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 80 -h /www';
  const name = `test-webserver-${uid()}`;
  const pod = busyboxPod(name, ['sh', '-c', script]);
  pod.spec!.containers[0].name = 'test-webserver';
  pod.spec!.containers[0].ports = [{ containerPort: 80 }];
  pod.spec!.containers[0].readinessProbe = { exec: { command: ['/bin/false'] }, periodSeconds: 2 };
  await core().createNamespacedPod({ namespace: ns.name, body: pod });
  await waitForPodPhase(ns.name, name, ['Running']);
  // Consistently, for a minute: never Ready
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    const p = await core().readNamespacedPod({ namespace: ns.name, name });
    expect(isReady(p)).toBe(false);
    await sleep(1000);
  }
  const p = await core().readNamespacedPod({ namespace: ns.name, name });
  expect(p.status?.phase).toBe('Running');
  expect(isReady(p)).toBe(false);
  expect(p.status?.containerStatuses?.[0]?.ready).toBe(false);
  expect(restartCount(p)).toBe(0);
  await core().deleteNamespacedPod({ namespace: ns.name, name, gracePeriodSeconds: 0 });
});

// upstream: a pod-handle-http-request pod (agnhost netexec :8080) the hooks call; here busybox
// nc in a loop, which prints each request to its log. Created once, by whichever hook test runs first.
let handlerName = '';
let handlerIP = '';
async function ensureHandlerPod(): Promise<void> {
  if (handlerIP) return;
  handlerName = `pod-handle-http-request-${uid()}`;
  // each request's head is printed to the container's stdout, so its log shows "GET /echo?msg=…"
  const serve = 'while true; do printf "HTTP/1.0 200 OK\\r\\nContent-Length: 3\\r\\nConnection: close\\r\\n\\r\\nok\\n" | nc -l -p 8080 -w 2; done';
  const pod = busyboxPod(handlerName, ['sh', '-c', serve]);
  pod.spec!.containers[0].name = 'container-handle-http-request';
  pod.spec!.containers[0].ports = [{ containerPort: 8080, protocol: 'TCP' }];
  await core().createNamespacedPod({ namespace: ns.name, body: pod });
  const running = await waitForPodPhase(ns.name, handlerName, ['Running']);
  handlerIP = running.status!.podIP!;
}

const handlerLogHas = (msg: string): Promise<boolean> =>
  waitFor(`handler log with ${msg}`, async () => (await podLog(ns.name, handlerName, 'container-handle-http-request')).includes(msg), 60_000);

test('[sig-node] Container Lifecycle Hook when create a pod with lifecycle hook should execute poststart exec hook properly', async () => {
  await ensureHandlerPod();
  const name = 'pod-with-poststart-exec-hook';
  const pod = busyboxPod(name, ['sleep', '3600']);
  pod.spec!.containers[0].name = name;
  pod.spec!.containers[0].lifecycle = {
    postStart: { exec: { command: ['sh', '-c', `wget -qO- "http://${handlerIP}:8080/echo?msg=poststart"`] } },
  };
  await core().createNamespacedPod({ namespace: ns.name, body: pod });
  await waitForPodPhase(ns.name, name, ['Running']);
  // check poststart hook
  expect(await handlerLogHas('GET /echo?msg=poststart')).toBe(true);
  // delete the pod with lifecycle hook
  await core().deleteNamespacedPod({ namespace: ns.name, name, gracePeriodSeconds: 15 });
  await waitFor(`pod ${name} gone`, async () => core().readNamespacedPod({ namespace: ns.name, name }).then(() => false, (e: { code?: number }) => e.code === 404), 120_000);
});

test('[sig-node] Container Lifecycle Hook when create a pod with lifecycle hook should execute prestop exec hook properly', async () => {
  await ensureHandlerPod();
  const name = 'pod-with-prestop-exec-hook';
  const pod = busyboxPod(name, ['sleep', '3600']);
  pod.spec!.containers[0].name = name;
  pod.spec!.terminationGracePeriodSeconds = 30;
  pod.spec!.containers[0].lifecycle = {
    preStop: { exec: { command: ['sh', '-c', `wget -qO- "http://${handlerIP}:8080/echo?msg=prestop"`] } },
  };
  await core().createNamespacedPod({ namespace: ns.name, body: pod });
  await waitForPodPhase(ns.name, name, ['Running']);
  const before = await podLog(ns.name, handlerName, 'container-handle-http-request');
  expect(before).not.toContain('/echo?msg=prestop');
  // delete the pod with lifecycle hook
  await core().deleteNamespacedPod({ namespace: ns.name, name, gracePeriodSeconds: 15 });
  await waitFor(`pod ${name} gone`, async () => core().readNamespacedPod({ namespace: ns.name, name }).then(() => false, (e: { code?: number }) => e.code === 404), 120_000);
  // check prestop hook
  expect(await handlerLogHas('GET /echo?msg=prestop')).toBe(true);
});

test('[sig-storage] ConfigMap should be consumable from pods in volume', async () => {
  const cmName = `configmap-test-volume-${uid()}`;
  await core().createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: cmName }, data: { 'data-1': 'value-1', 'data-2': 'value-2', 'data-3': 'value-3' } } });
  const file = '/etc/configmap-volume/data-1';
  const pod = busyboxPod(`pod-configmaps-${uid()}`, ['sh', '-c', `echo "content of file \\"${file}\\": $(cat ${file})"; echo "mode of file \\"${file}\\": $(stat -L -c %A ${file})"`]);
  pod.spec!.containers[0].name = 'agnhost-container';
  pod.spec!.volumes = [{ name: 'configmap-volume', configMap: { name: cmName } }];
  pod.spec!.containers[0].volumeMounts = [{ name: 'configmap-volume', mountPath: '/etc/configmap-volume' }];
  await testContainerOutput(pod, [`content of file "${file}": value-1`, `mode of file "${file}": -rw-r--r--`]);
});

test('[sig-storage] Secrets should be consumable from pods in volume', async () => {
  const secretName = `secret-test-${uid()}`;
  await core().createNamespacedSecret({
    namespace: ns.name,
    body: { metadata: { name: secretName }, data: { 'data-1': Buffer.from('value-1').toString('base64'), 'data-2': Buffer.from('value-2').toString('base64'), 'data-3': Buffer.from('value-3').toString('base64') } },
  });
  const file = '/etc/secret-volume/data-1';
  const pod = busyboxPod(`pod-secrets-${uid()}`, ['sh', '-c', `echo "content of file \\"${file}\\": $(cat ${file})"; echo "mode of file \\"${file}\\": $(stat -L -c %A ${file})"`]);
  pod.spec!.containers[0].name = 'secret-volume-test';
  pod.spec!.volumes = [{ name: 'secret-volume', secret: { secretName } }];
  pod.spec!.containers[0].volumeMounts = [{ name: 'secret-volume', mountPath: '/etc/secret-volume', readOnly: true }];
  await testContainerOutput(pod, [`content of file "${file}": value-1`, `mode of file "${file}": -rw-r--r--`]);
});

test('[sig-storage] EmptyDir volumes pod should support shared volumes between containers', async () => {
  const name = `pod-sharedvolume-${uid()}`;
  const message = 'Hello from the busy-box sub-container';
  const mount = '/usr/share/volumeshare';
  const file = `${mount}/shareddata.txt`;
  await core().createNamespacedPod({
    namespace: ns.name,
    body: {
      metadata: { name },
      spec: {
        terminationGracePeriodSeconds: 0,
        volumes: [{ name: 'shared-data', emptyDir: {} }],
        containers: [
          { name: 'busybox-main-container', image: IMAGE, imagePullPolicy: 'IfNotPresent', command: ['/bin/sh'], args: ['-c', 'sleep 100000'], volumeMounts: [{ name: 'shared-data', mountPath: mount }] },
          { name: 'busybox-sub-container', image: IMAGE, imagePullPolicy: 'IfNotPresent', command: ['/bin/sh'], args: ['-c', `echo ${message} > ${file} ; sleep 100000`], volumeMounts: [{ name: 'shared-data', mountPath: mount }] },
        ],
      },
    },
  });
  await waitForPodPhase(ns.name, name, ['Running']);
  // Reading file content from the main container
  const result = await waitFor('shared file', async () => (await execInContainer(name, 'busybox-main-container', ['cat', file])) || undefined, 60_000);
  expect(result.trim()).toBe(message);
  await core().deleteNamespacedPod({ namespace: ns.name, name, gracePeriodSeconds: 0 });
});

test('[sig-node] ConfigMap should be consumable via the environment', async () => {
  const cmName = `configmap-${uid()}`;
  await core().createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: cmName }, data: { 'data-1': 'value-1', 'data-2': 'value-2', 'data-3': 'value-3' } } });
  // upstream runs `sh -c env`; busybox 1.35's ash drops variables whose names are not shell
  // identifiers (data-1) from its children's environment, so env reads the container's directly
  const pod = busyboxPod(`pod-configmaps-${uid()}`, ['env']);
  pod.spec!.containers[0].name = 'env-test';
  pod.spec!.containers[0].envFrom = [
    { configMapRef: { name: cmName } },
    { prefix: 'p-', configMapRef: { name: cmName } },
  ];
  await testContainerOutput(pod, ['data-1=value-1', 'data-2=value-2', 'data-3=value-3', 'p-data-1=value-1', 'p-data-2=value-2', 'p-data-3=value-3']);
});
