// core/v1 pods: upstream's podStrategy (pkg/registry/core/pod/strategy.go) and printPod.
import type { DeleteOptions } from 'kubernetes-types/meta/v1.js';
import type { Container, Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import type { ResourceDefinition } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, age } from './printing.js';
import { col, type Stored, keepRequestLabelsAndAnnotations } from './core-helpers.js';
import { defaultPod } from './pod-defaults.js';
import { podSpecErrors } from './pod-validation.js';
import { validatePodStatusUpdate, validatePodUpdate } from './pod-update.js';
import { podStatusCells, podWideCells } from './pod-status-printing.js';
import { parseQuantity } from './quantity.js';
import { ipErrors } from './core-helpers.js';

type PodObject = Stored<Pod>;

/** qos.GetPodQOS: Guaranteed when every container limits cpu and memory and requests equal limits. */
export function podQOSClass(pod: Pod): string {
  const requests = new Map<string, number>();
  const limits = new Map<string, number>();
  let guaranteed = true;
  const containers: Container[] = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  for (const c of containers) {
    // A limit with no request means request == limit (the defaulting may not have run yet).
    const req = { ...(c.resources?.limits ?? {}), ...(c.resources?.requests ?? {}) };
    for (const name of ['cpu', 'memory']) {
      const r = parseQuantity(req[name]) ?? 0;
      if (r > 0) requests.set(name, (requests.get(name) ?? 0) + r);
    }
    const found = new Set<string>();
    for (const name of ['cpu', 'memory']) {
      const l = parseQuantity(c.resources?.limits?.[name]) ?? 0;
      if (l > 0) {
        found.add(name);
        limits.set(name, (limits.get(name) ?? 0) + l);
      }
    }
    if (found.size < 2) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, r] of requests) if (limits.get(name) !== r) guaranteed = false;
    if (requests.size !== limits.size) guaranteed = false;
  }
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** v1 conversion keeps the singular and plural IP fields in step (the singular wins when they differ). */
function syncIPs(status: PodStatus | undefined): void {
  if (!status) return;
  if (status.podIP && status.podIPs?.[0]?.ip !== status.podIP) status.podIPs = [{ ip: status.podIP }, ...(status.podIPs ?? []).slice(1)];
  else if (!status.podIP && status.podIPs?.length) status.podIP = status.podIPs[0].ip;
  if (status.hostIP && status.hostIPs?.[0]?.ip !== status.hostIP) status.hostIPs = [{ ip: status.hostIP }, ...(status.hostIPs ?? []).slice(1)];
  else if (!status.hostIP && status.hostIPs?.length) status.hostIP = status.hostIPs[0].ip;
}

const pods: ResourceDefinition<PodObject> = {
  group: '',
  version: 'v1',
  kind: 'Pod',
  plural: 'pods',
  singular: 'pod',
  namespaced: true,
  shortNames: ['po'],
  categories: ['all'],
  subresources: { status: true },
  fieldSelectors: {
    'spec.nodeName': (p) => p.spec?.nodeName ?? '',
    'spec.restartPolicy': (p) => p.spec?.restartPolicy ?? '',
    'spec.schedulerName': (p) => p.spec?.schedulerName ?? '',
    'spec.serviceAccountName': (p) => p.spec?.serviceAccountName ?? '',
    'spec.hostNetwork': (p) => String(p.spec?.hostNetwork ?? false),
    'status.phase': (p) => p.status?.phase ?? '',
    'status.podIP': (p) => p.status?.podIP || p.status?.podIPs?.[0]?.ip || '',
    // Accepted by upstream's label conversion but absent from its field set, so it matches as "".
    'status.podIPs': () => '',
    'status.nominatedNodeName': (p) => p.status?.nominatedNodeName ?? '',
  },
  strategy: {
    defaults(pod) {
      defaultPod(pod);
      syncIPs(pod.status);
    },
    prepareForCreate(pod) {
      pod.status = { phase: 'Pending', qosClass: podQOSClass(pod) };
      const spec = pod.spec;
      if (spec) {
        // What the Priority admission plugin fills in when no PriorityClass applies.
        if (!spec.priorityClassName) spec.priority ??= 0;
        spec.preemptionPolicy ??= 'PreemptLowerPriority';
      }
      if (spec?.schedulingGates?.length) {
        pod.status.conditions = [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated', message: 'Scheduling is blocked due to non-empty scheduling gates' }];
      }
    },
    prepareForUpdate(pod, old) {
      pod.status = old.status;
    },
    prepareForStatusUpdate: keepRequestLabelsAndAnnotations,
    validate(pod) {
      const errs = podSpecErrors(pod.spec ?? { containers: [] }, 'spec', { isPod: true, podName: pod.metadata?.name });
      (pod.status?.podIPs ?? []).forEach((ip, i) => errs.push(...ipErrors(ip.ip ?? '', `status.podIPs[${i}]`)));
      return errs;
    },
    validateUpdate: validatePodUpdate,
    validateStatusUpdate: validatePodStatusUpdate,
    gracePeriodSeconds(pod, options: DeleteOptions) {
      let period = options.gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 0;
      // A pod no kubelet runs, or one that already finished, has nothing to wait for.
      if (!pod.spec?.nodeName) period = 0;
      if (pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded') period = 0;
      if (period < 0) period = 1;
      options.gracePeriodSeconds = period;
      return period;
    },
  },
  table: {
    columns: [
      NAME_COLUMN,
      col('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
      col('Status', 'The aggregate status of the containers in this pod.'),
      col('Restarts', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
      AGE_COLUMN,
      col('IP', 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', { priority: 1 }),
      col('Node', 'NodeName indicates in which node this pod is scheduled.', { priority: 1 }),
      col('Nominated Node', 'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.', { priority: 1 }),
      col('Readiness Gates', 'If specified, all readiness gates will be evaluated for pod readiness.', { priority: 1 }),
    ],
    row(pod) {
      const cells = podStatusCells(pod);
      return [pod.metadata?.name, cells.ready, cells.status, cells.restarts, age(pod.metadata?.creationTimestamp), ...podWideCells(pod)];
    },
  },
};

export default pods;
