// Definitions of the named-group resources: defaults, validation messages, printer rows, Scale
// and the autoscaling v1 <-> v2 conversion, as upstream Kubernetes behaves.
import { describe, expect, test } from '@jest/globals';
import type { Deployment, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type { HorizontalPodAutoscaler as HPAv1 } from 'kubernetes-types/autoscaling/v1.js';
import type { HorizontalPodAutoscaler as HPAv2 } from 'kubernetes-types/autoscaling/v2.js';
import type { Ingress, NetworkPolicy } from 'kubernetes-types/networking/v1.js';
import type { KubeObject, ResourceDefinition } from '../../server/registry/types.js';
import { groupResources } from '../../server/registry/groups.js';
import deployments from '../../server/registry/deployments.js';
import statefulsets from '../../server/registry/statefulsets.js';
import jobs from '../../server/registry/jobs.js';
import cronjobs from '../../server/registry/cronjobs.js';
import ingresses from '../../server/registry/ingresses.js';
import networkpolicies from '../../server/registry/networkpolicies.js';
import hpaV1 from '../../server/registry/horizontalpodautoscalers-v1.js';
import hpaV2 from '../../server/registry/horizontalpodautoscalers-v2.js';
import { cronScheduleError } from '../../server/registry/cron-schedule.js';

type Obj<T> = T & KubeObject;

/** What the generic store does on create, minus storage: defaults, prepareForCreate, validate. */
function create<T extends KubeObject>(def: ResourceDefinition<T>, obj: T) {
  def.strategy.defaults?.(obj);
  def.strategy.prepareForCreate?.(obj);
  return def.strategy.validate(obj);
}

const podTemplate = (labels: Record<string, string>, restartPolicy?: string) => ({
  metadata: { labels },
  spec: { containers: [{ name: 'web', image: 'nginx:1.27' }], ...(restartPolicy ? { restartPolicy } : {}) },
});

const deployment = (selector: Record<string, string>, labels: Record<string, string>): Obj<Deployment> => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
  spec: { selector: { matchLabels: selector }, template: podTemplate(labels) },
});

describe('apps/v1 Deployment', () => {
  test('defaults a minimal deployment as upstream', () => {
    const d = deployment({ app: 'web' }, { app: 'web' });
    expect(create(deployments, d)).toEqual([]);
    expect(d.spec).toMatchObject({
      replicas: 1,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    });
    expect(d.status).toEqual({});
  });

  test('reports a selector that does not match the template labels', () => {
    const errs = create(deployments, deployment({ app: 'web' }, { app: 'other', tier: 'x' }));
    expect(errs).toContainEqual({
      type: 'FieldValueInvalid',
      field: 'spec.template.metadata.labels',
      detail: 'Invalid value: map[string]string{"app":"other", "tier":"x"}: `selector` does not match template `labels`',
    });
  });

  test('a missing selector is required and matches nothing', () => {
    const d = deployment({}, { app: 'web' });
    delete (d.spec as { selector?: unknown }).selector;
    const fields = create(deployments, d).map((e) => `${e.field}: ${e.detail.split(':')[0]}`);
    expect(fields).toEqual(['spec.selector: Required value', 'spec.template.metadata.labels: Invalid value']);
  });

  test('the selector is immutable in apps/v1', () => {
    const old = deployment({ app: 'web' }, { app: 'web' });
    const next = deployment({ app: 'web2' }, { app: 'web2' });
    expect(deployments.strategy.validateUpdate!(next, old)[0].detail)
      .toBe('Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable');
  });

  test('prints Ready, Up-to-date and Available, then the wide columns', () => {
    const d = deployment({ app: 'web' }, { app: 'web' });
    create(deployments, d);
    d.spec!.replicas = 2;
    d.status = { readyReplicas: 1, updatedReplicas: 2, availableReplicas: 1 };
    (d.metadata as { creationTimestamp?: string }).creationTimestamp = new Date(Date.now() - 90_000).toISOString();
    expect(deployments.table.columns.map((c) => c.name)).toEqual(['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers', 'Images', 'Selector']);
    expect(deployments.table.columns.filter((c) => c.priority === 1).map((c) => c.name)).toEqual(['Containers', 'Images', 'Selector']);
    expect(deployments.table.row(d)).toEqual(['web', '1/2', 2, 1, '90s', 'web', 'nginx:1.27', 'app=web']);
  });

  test('scale reads and writes spec.replicas and renders the selector', () => {
    const d = deployment({ tier: 'b', app: 'web' }, { app: 'web', tier: 'b' });
    create(deployments, d);
    const scale = deployments.subresources!.scale!;
    expect([scale.specReplicas(d), scale.statusReplicas(d), scale.selector(d)]).toEqual([1, 0, 'app=web,tier=b']);
    scale.setSpecReplicas(d, 5);
    expect(d.spec!.replicas).toBe(5);
  });
});

describe('apps/v1 StatefulSet', () => {
  test('defaults as SetDefaults_StatefulSet', () => {
    const s: Obj<StatefulSet> = {
      metadata: { name: 'db' },
      spec: { serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: podTemplate({ app: 'db' }) },
    };
    expect(create(statefulsets, s)).toEqual([]);
    expect(s.spec).toMatchObject({
      replicas: 1,
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      revisionHistoryLimit: 10,
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
    });
    expect(s.spec!.minReadySeconds).toBeUndefined();
  });
});

describe('batch/v1 Job', () => {
  const job = (): Obj<Job> => ({
    metadata: { name: 'pi', namespace: 'default', uid: '0b1c' },
    spec: { template: { spec: { containers: [{ name: 'pi', image: 'perl' }], restartPolicy: 'Never' } } },
  });

  test('defaults and generates the selector and labels', () => {
    const j = job();
    expect(create(jobs, j)).toEqual([]);
    const labels = {
      'batch.kubernetes.io/controller-uid': '0b1c', 'batch.kubernetes.io/job-name': 'pi', 'controller-uid': '0b1c', 'job-name': 'pi',
    };
    expect(j.spec).toMatchObject({
      parallelism: 1, completions: 1, backoffLimit: 6, completionMode: 'NonIndexed', suspend: false,
      manualSelector: false, podReplacementPolicy: 'TerminatingOrFailed',
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': '0b1c' } },
    });
    expect(j.spec!.template.metadata!.labels).toEqual(labels);
    expect(j.metadata!.labels).toEqual(labels);
  });

  test('a pod template that restarts Always is refused', () => {
    const j = job();
    delete j.spec!.template.spec!.restartPolicy;
    expect(create(jobs, j)).toContainEqual({
      type: 'FieldValueRequired', field: 'spec.template.spec.restartPolicy', detail: 'Required value: valid values: "OnFailure", "Never"',
    });
  });

  test('prints Status, Completions and Duration', () => {
    const j = job();
    create(jobs, j);
    (j.metadata as { creationTimestamp?: string }).creationTimestamp = new Date(Date.now() - 300_000).toISOString();
    j.status = {
      succeeded: 1, startTime: '2024-01-01T00:00:00Z', completionTime: '2024-01-01T00:00:07Z',
      conditions: [{ type: 'Complete', status: 'True' }],
    };
    expect(jobs.table.columns.map((c) => c.name)).toEqual(['Name', 'Status', 'Completions', 'Duration', 'Age', 'Containers', 'Images', 'Selector']);
    expect(jobs.table.row(j)).toEqual(['pi', 'Complete', '1/1', '7s', '5m', 'pi', 'perl', 'batch.kubernetes.io/controller-uid=0b1c']);
    expect(jobs.fieldSelectors!['status.successful'](j)).toBe('1');
  });
});

describe('batch/v1 CronJob', () => {
  const cronjob = (schedule: string): Obj<CronJob> => ({
    metadata: { name: 'tick' },
    spec: { schedule, jobTemplate: { spec: { template: podTemplate({}, 'OnFailure') } } },
  });

  test('defaults as SetDefaults_CronJob', () => {
    const c = cronjob('*/5 * * * *');
    expect(create(cronjobs, c)).toEqual([]);
    expect(c.spec).toMatchObject({ concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
  });

  test('rejects a bad schedule with the cron parser message', () => {
    expect(create(cronjobs, cronjob('61 * * * *'))).toEqual([{
      type: 'FieldValueInvalid', field: 'spec.schedule', detail: 'Invalid value: "61 * * * *": end of range (61) above maximum (59): 61',
    }]);
  });

  test('parses standard schedules and descriptors like robfig/cron', () => {
    expect(cronScheduleError('@hourly')).toBeUndefined();
    expect(cronScheduleError('@every 1h30m')).toBeUndefined();
    expect(cronScheduleError('0 0 * JAN-MAR mon-fri')).toBeUndefined();
    expect(cronScheduleError('* * *')).toBe('expected exactly 5 fields, found 3: [* * *]');
    expect(cronScheduleError('@fortnightly')).toBe('unrecognized descriptor: @fortnightly');
    expect(cronScheduleError('x * * * *')).toBe('failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax');
    expect(cronScheduleError('0 0 * * 7')).toBe('end of range (7) above maximum (6): 7');
  });

  test('prints schedule, time zone and suspend', () => {
    const c = cronjob('@daily');
    create(cronjobs, c);
    expect(cronjobs.table.row(c).slice(1, 6)).toEqual(['@daily', '<none>', 'False', 0, '<none>']);
  });
});

describe('networking.k8s.io/v1', () => {
  test('an ingress path needs a pathType', () => {
    const ing: Obj<Ingress> = {
      metadata: { name: 'web' },
      spec: { rules: [{ host: 'example.com', http: { paths: [{ path: '/', backend: { service: { name: 'web', port: { number: 80 } } } } as never] } }] },
    };
    expect(create(ingresses, ing)).toEqual([{
      type: 'FieldValueRequired', field: 'spec.rules[0].http.paths[0].pathType', detail: 'Required value: pathType must be specified',
    }]);
    expect(ingresses.table.row(ing).slice(0, 5)).toEqual(['web', '<none>', 'example.com', '', '80']);
  });

  test('network policy types follow the rules', () => {
    const np: Obj<NetworkPolicy> = { metadata: { name: 'deny' }, spec: { podSelector: {}, egress: [{ ports: [{ port: 53 }] }] } };
    expect(create(networkpolicies, np)).toEqual([]);
    expect(np.spec!.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(np.spec!.egress![0].ports![0].protocol).toBe('TCP');
  });
});

describe('autoscaling v1 and v2 share storage', () => {
  test('targetCPUUtilizationPercentage becomes a v2 CPU metric and back', () => {
    const v1: Obj<HPAv1> = {
      metadata: { name: 'web' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5, targetCPUUtilizationPercentage: 60 },
    };
    expect(create(hpaV1, v1)).toEqual([]);
    const stored = hpaV1.conversion!.toStorage(v1) as Obj<HPAv2>;
    expect(hpaV1.conversion!.storageKey).toBe(hpaV2.conversion!.storageKey);
    expect(stored.spec).toMatchObject({
      minReplicas: 1, maxReplicas: 5,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }],
    });
    stored.status = { desiredReplicas: 2, currentReplicas: 2, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 40 } } }] };
    const back = hpaV1.conversion!.fromStorage(stored);
    expect(back.spec!.targetCPUUtilizationPercentage).toBe(60);
    expect(back.status!.currentCPUUtilizationPercentage).toBe(40);
    expect(hpaV2.table.row(stored).slice(1, 6)).toEqual(['Deployment/web', 'cpu: 40%/60%', '1', 5, 2]);
  });

  test('v2-only metrics survive a trip through v1', () => {
    const v2: Obj<HPAv2> = {
      metadata: { name: 'web' },
      spec: {
        scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 3,
        metrics: [
          { type: 'Pods', pods: { metric: { name: 'rps' }, target: { type: 'AverageValue', averageValue: '10' } } },
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
        ],
      },
    };
    expect(create(hpaV2, v2)).toEqual([]);
    const again = hpaV1.conversion!.toStorage(hpaV1.conversion!.fromStorage(v2)) as Obj<HPAv2>;
    expect(again.spec!.metrics).toEqual(v2.spec!.metrics);
    expect(again.metadata!.annotations).toBeUndefined();
  });
});

test('groupResources lists every definition with upstream names', () => {
  const names = groupResources.map((d) => `${d.group}/${d.version}/${d.plural}:${(d.shortNames ?? []).join(',')}`);
  expect(names).toEqual([
    'apps/v1/deployments:deploy', 'apps/v1/replicasets:rs', 'apps/v1/statefulsets:sts', 'apps/v1/daemonsets:ds',
    'apps/v1/controllerrevisions:', 'batch/v1/jobs:', 'batch/v1/cronjobs:cj', 'networking.k8s.io/v1/ingresses:ing',
    'networking.k8s.io/v1/ingressclasses:', 'networking.k8s.io/v1/networkpolicies:netpol', 'coordination.k8s.io/v1/leases:',
    'discovery.k8s.io/v1/endpointslices:', 'policy/v1/poddisruptionbudgets:pdb', 'autoscaling/v2/horizontalpodautoscalers:hpa',
    'autoscaling/v1/horizontalpodautoscalers:hpa', 'storage.k8s.io/v1/storageclasses:sc',
    'certificates.k8s.io/v1/certificatesigningrequests:csr',
  ]);
  expect(groupResources.filter((d) => d.categories?.includes('all')).map((d) => d.plural)).toEqual([
    'deployments', 'replicasets', 'statefulsets', 'daemonsets', 'jobs', 'cronjobs', 'horizontalpodautoscalers', 'horizontalpodautoscalers',
  ]);
});
