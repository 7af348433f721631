import { recordUpdate, serverSideApply } from '../../server/apply/index.js';
import type { KubeObject } from '../../server/registry/types.js';
const APPS = { group: 'apps', version: 'v1', kind: 'Deployment' };
function container(i: number) {
  return {
    name: `c${i}`, image: `registry.example.com/app${i}:1.${i}`, imagePullPolicy: 'IfNotPresent',
    args: ['--port=8080', '--verbose'], ports: [{ containerPort: 8080 + i, name: `http${i}`, protocol: 'TCP' }, { containerPort: 9090 + i, protocol: 'TCP' }],
    env: Array.from({ length: 8 }, (_, j) => ({ name: `ENV_${j}`, value: `value-${j}` })),
    resources: { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
    volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'cfg', mountPath: '/etc/cfg', readOnly: true }],
    readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 10 },
    terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File',
  };
}
function deploy(image = 1): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web', tier: 'frontend' }, annotations: { 'team': 'a' } },
    spec: {
      replicas: 3, selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: 'web', tier: 'frontend' } },
        spec: {
          containers: [container(image), container(2), container(3)],
          volumes: [{ name: 'data', emptyDir: {} }, { name: 'cfg', configMap: { name: 'cfg' } }],
          dnsPolicy: 'ClusterFirst', restartPolicy: 'Always', schedulerName: 'default-scheduler', securityContext: {}, terminationGracePeriodSeconds: 30,
        },
      },
    },
    status: { replicas: 3, readyReplicas: 3, conditions: [{ type: 'Available', status: 'True' }, { type: 'Progressing', status: 'True' }] },
  };
}
function time(label: string, n: number, f: (i: number) => void): number {
  for (let i = 0; i < 200; i++) f(i);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f(i);
  const us = Number(process.hrtime.bigint() - t0) / 1000 / n;
  console.log(`${label}: ${us.toFixed(1)} µs/op`);
  return us;
}
it('bench', () => {
  const T = '2024-05-01T10:00:00Z';
  const opts = { time: T, apiVersion: 'apps/v1' };
  let live = serverSideApply(undefined, deploy(), 'kubectl', APPS, { ...opts, force: false });
  const edited = structuredClone(live); (edited.spec as any).replicas = 5;
  recordUpdate(live, edited, 'kubectl-scale', APPS, opts);
  live = edited;
  const status = structuredClone(live); (status.status as any).readyReplicas = 2;
  recordUpdate(live, status, 'kube-controller-manager', APPS, { ...opts, subresource: 'status' });
  live = status;
  console.log('entries', live.metadata!.managedFields!.map((e) => e.manager), JSON.stringify(live).length, 'bytes');
  const N = 3000;
  const clone = time('structuredClone(deployment)', N, () => structuredClone(live));
  const parse = time('JSON.parse(JSON.stringify(deployment))', N, () => JSON.parse(JSON.stringify(live)));
  const upd = time('recordUpdate (one field changed)', N, (i) => {
    const next = structuredClone(live); (next.metadata!.labels as any).v = String(i);
    recordUpdate(live, next, 'kubectl-label', APPS, opts);
  });
  const applyBody = deploy(); delete applyBody.status;
  const applied = JSON.parse(JSON.stringify(applyBody).replace('registry.example.com/app1:1.1', 'registry.example.com/app1:2.0'));
  const ssa = time('serverSideApply (image changed)', N, () => { serverSideApply(live, applied, 'kubectl', APPS, { ...opts, force: true }); });
  const noop = time('serverSideApply (no-op)', N, () => { serverSideApply(live, applyBody, 'kubectl', APPS, { ...opts, force: false }); });
  console.log('ratio ssa/update (clone included in update)', (ssa / (upd)).toFixed(2), 'noop', (noop / upd).toFixed(2), clone.toFixed(1), parse.toFixed(1));
});
