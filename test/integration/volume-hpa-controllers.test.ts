// The PersistentVolume binder with the local-path provisioner, and the HPA controller, against
// a real API server. No node agent or scheduler: pods are created with spec.nodeName set.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logger } from '../../apimachinery/log.js';
import { ApiClient } from '../../controllers/framework/client.js';
import { runControllers } from '../../controllers/manager.js';
import { PersistentVolumeBinderController } from '../../controllers/persistentvolume-binder.js';
import { HorizontalPodAutoscalerController, ResourceMetricsApi, type MetricsSource } from '../../controllers/horizontal-pod-autoscaler.js';
import { setLocalPathDataDir } from '../../controllers/local-path-provisioner.js';
import { ServiceAccountsController } from '../../controllers/serviceaccount.js';
import { call } from '../support/http.js';
import { startApiServer, startRedis, type ApiServerProcess, type RedisProcess } from '../support/processes.js';
import { until, sleep } from '../support/wait.js';

let redis: RedisProcess;
let api: ApiServerProcess;
const stop = new AbortController();
const dataDir = mkdtempSync(join(tmpdir(), 'podium-volumes-'));
const core = '/api/v1/namespaces/default';

beforeAll(async () => {
  redis = await startRedis();
  api = await startApiServer(redis.url);
  setLocalPathDataDir(dataDir);
  const client = new ApiClient(api.url);
  // Pods labelled app=busy get fake metrics (90m each); everything else asks the (missing) metrics API.
  const real = new ResourceMetricsApi(client);
  const metrics: MetricsSource = {
    podMetrics: async (ns, selector, resource) => {
      if (selector !== 'app=busy') return real.podMetrics(ns, selector, resource);
      const pods = (await get(`${core}/pods?labelSelector=app%3Dbusy`)).items;
      return new Map(pods.map((p: any) => [p.metadata.name, { value: 90, timestampMs: Date.now(), windowMs: 30_000 }]));
    },
  };
  const controllers = [new PersistentVolumeBinderController(), new HorizontalPodAutoscalerController(metrics), new ServiceAccountsController()];
  void runControllers(client, controllers, 2, stop.signal, logger('test'));
});
afterAll(async () => {
  stop.abort();
  await api?.stop();
  await redis?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const get = async (path: string): Promise<any> => (await call(api.url, 'GET', path)).body;
const create = async (path: string, body: unknown): Promise<any> => {
  const res = await call(api.url, 'POST', path, body);
  expect(res.status).toBe(201);
  return res.body;
};
const claim = (name: string, storageClassName?: string) => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...(storageClassName !== undefined ? { storageClassName } : {}) },
});

test('the default class standard exists and is WaitForFirstConsumer', async () => {
  const sc = await until('standard', async () => (await call(api.url, 'GET', '/apis/storage.k8s.io/v1/storageclasses/standard')).status === 200 && get('/apis/storage.k8s.io/v1/storageclasses/standard'));
  expect(sc).toMatchObject({ provisioner: 'podium.io/local-path', reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer' });
  expect(sc.metadata.annotations['storageclass.kubernetes.io/is-default-class']).toBe('true');
});

test('an Immediate claim is provisioned and both become Bound; deleting it deletes the volume', async () => {
  await create('/apis/storage.k8s.io/v1/storageclasses', { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'fast' }, provisioner: 'podium.io/local-path', volumeBindingMode: 'Immediate' });
  const pvc = await create(`${core}/persistentvolumeclaims`, claim('fast-data', 'fast'));
  const bound = await until('claim bound', async () => { const c = await get(`${core}/persistentvolumeclaims/fast-data`); return c.status?.phase === 'Bound' && c; });
  const pvName = `pvc-${pvc.metadata.uid}`;
  expect(bound.spec.volumeName).toBe(pvName);
  expect(bound.status).toMatchObject({ capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'] });
  expect(bound.metadata.annotations).toMatchObject({ 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes', 'volume.kubernetes.io/storage-provisioner': 'podium.io/local-path' });
  const pv = await until('volume bound', async () => { const v = await get(`/api/v1/persistentvolumes/${pvName}`); return v.status?.phase === 'Bound' && v; });
  expect(pv.spec).toMatchObject({ storageClassName: 'fast', persistentVolumeReclaimPolicy: 'Delete', claimRef: { name: 'fast-data', namespace: 'default', uid: pvc.metadata.uid }, hostPath: { path: join(dataDir, 'volumes', pvName) } });
  expect(existsSync(join(dataDir, 'volumes', pvName))).toBe(true);
  const events = (await get(`${core}/events`)).items.filter((e: any) => e.involvedObject.name === 'fast-data');
  expect(events.map((e: any) => `${e.reason}: ${e.message}`)).toContain(`ProvisioningSucceeded: Successfully provisioned volume ${pvName}`);

  expect((await call(api.url, 'DELETE', `${core}/persistentvolumeclaims/fast-data`)).status).toBe(200);
  await until('volume deleted', async () => (await call(api.url, 'GET', `/api/v1/persistentvolumes/${pvName}`)).status === 404);
  expect(existsSync(join(dataDir, 'volumes', pvName))).toBe(false);
});

test('a classless claim gets standard and is provisioned once a pod using it is on a node', async () => {
  const pvc = await create(`${core}/persistentvolumeclaims`, claim('wait-data'));
  await until('default class assigned', async () => (await get(`${core}/persistentvolumeclaims/wait-data`)).spec.storageClassName === 'standard');
  await sleep(500);
  expect((await get(`${core}/persistentvolumeclaims/wait-data`)).status?.phase).toBe('Pending');
  // (the ServiceAccount admission needs the default ServiceAccount first)
  await until('pod created', async () => (await call(api.url, 'POST', `${core}/pods`, {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'user' },
    spec: { nodeName: 'sim-0', containers: [{ name: 'c', image: 'nginx' }], volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'wait-data' } }] },
  })).status === 201);
  const bound = await until('claim bound', async () => { const c = await get(`${core}/persistentvolumeclaims/wait-data`); return c.status?.phase === 'Bound' && c; });
  expect(bound.metadata.annotations['volume.kubernetes.io/selected-node']).toBe('sim-0');
  const pv = await get(`/api/v1/persistentvolumes/pvc-${pvc.metadata.uid}`);
  expect(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0]).toEqual({ key: 'kubernetes.io/hostname', operator: 'In', values: ['sim-0'] });
});

test('a static Retain volume binds, and is Released when its claim goes', async () => {
  await create('/api/v1/persistentvolumes', {
    apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'static-a' },
    spec: { capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: 'manual', persistentVolumeReclaimPolicy: 'Retain', hostPath: { path: '/tmp/static-a' } },
  });
  await until('volume available', async () => (await get('/api/v1/persistentvolumes/static-a')).status?.phase === 'Available');
  await create(`${core}/persistentvolumeclaims`, claim('static-data', 'manual'));
  const bound = await until('claim bound', async () => { const c = await get(`${core}/persistentvolumeclaims/static-data`); return c.status?.phase === 'Bound' && c; });
  expect(bound.spec.volumeName).toBe('static-a');
  expect(bound.status.capacity).toEqual({ storage: '5Gi' });
  await until('volume bound', async () => (await get('/api/v1/persistentvolumes/static-a')).status?.phase === 'Bound');
  await call(api.url, 'DELETE', `${core}/persistentvolumeclaims/static-data`);
  await until('volume released', async () => (await get('/api/v1/persistentvolumes/static-a')).status?.phase === 'Released');
});

test('an HPA whose pods have no metrics (no agent serves usage for them) reports ScalingActive=False', async () => {
  await create('/apis/apps/v1/namespaces/default/deployments', {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu: '100m' } } }] } } },
  });
  await create('/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers', {
    apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web' },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 5, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
  });
  const hpa = await until('hpa status', async () => { const h = await get('/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/web'); return h.status?.conditions?.length && h; });
  const cond = Object.fromEntries(hpa.status.conditions.map((c: any) => [c.type, c]));
  expect(cond.AbleToScale).toMatchObject({ status: 'True', reason: 'SucceededGetScale' });
  expect(cond.ScalingActive).toMatchObject({ status: 'False', reason: 'FailedGetResourceMetric' });
  expect(cond.ScalingActive.message).toBe('the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API');
  const events = (await get(`${core}/events`)).items.filter((e: any) => e.involvedObject.kind === 'HorizontalPodAutoscaler');
  expect(events.map((e: any) => e.reason)).toContain('FailedGetResourceMetric');
});

test('with metrics, an HPA scales its target up through the scale subresource', async () => {
  await create('/apis/apps/v1/namespaces/default/deployments', {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'busy' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'busy' } }, template: { metadata: { labels: { app: 'busy' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
  });
  const longAgo = new Date(Date.now() - 600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  for (const name of ['busy-a', 'busy-b']) {
    await until('pod created', async () => (await call(api.url, 'POST', `${core}/pods`, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'busy' } },
      spec: { nodeName: 'sim-0', containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu: '100m' } } }] },
    })).status === 201);
    const res = await call(api.url, 'PATCH', `${core}/pods/${name}/status`, { status: { phase: 'Running', startTime: longAgo, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: longAgo }] } }, 'application/merge-patch+json');
    expect(res.status).toBe(200);
  }
  await create('/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers', {
    apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'busy' },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'busy' }, minReplicas: 1, maxReplicas: 10, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
  });
  // 90 % against a 50 % target on 2 replicas: ceil(2 × 1.8) = 4.
  await until('deployment scaled', async () => (await get('/apis/apps/v1/namespaces/default/deployments/busy')).spec.replicas === 4);
  const hpa = await until('hpa status', async () => { const h = await get('/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/busy'); return h.status?.desiredReplicas === 4 && h; });
  const cond = Object.fromEntries(hpa.status.conditions.map((c: any) => [c.type, c]));
  expect(cond.ScalingActive).toMatchObject({ status: 'True', reason: 'ValidMetricFound' });
  expect(hpa.status.currentMetrics[0].resource.current.averageUtilization).toBe(90);
  const events = (await get(`${core}/events`)).items.filter((e: any) => e.involvedObject.name === 'busy' && e.reason === 'SuccessfulRescale');
  expect(events.map((e: any) => e.message)).toContain('New size: 4; reason: cpu resource utilization (percentage of request) above target');
});
