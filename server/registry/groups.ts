// The named API groups' resources (apps, batch, networking, coordination, discovery, policy,
// autoscaling, storage, certificates) for the registry table.
import type { ResourceDefinition } from './types.js';
import { erase } from './workload-helpers.js';
import deployments from './deployments.js';
import replicasets from './replicasets.js';
import statefulsets from './statefulsets.js';
import daemonsets from './daemonsets.js';
import controllerrevisions from './controllerrevisions.js';
import jobs from './jobs.js';
import cronjobs from './cronjobs.js';
import ingresses from './ingresses.js';
import ingressclasses from './ingressclasses.js';
import networkpolicies from './networkpolicies.js';
import leases from './leases.js';
import endpointslices from './endpointslices.js';
import poddisruptionbudgets from './poddisruptionbudgets.js';
import horizontalpodautoscalersV2 from './horizontalpodautoscalers-v2.js';
import horizontalpodautoscalersV1 from './horizontalpodautoscalers-v1.js';
import storageclasses from './storageclasses.js';
import certificatesigningrequests from './certificatesigningrequests.js';

export const groupResources: ResourceDefinition[] = [
  erase(deployments),
  erase(replicasets),
  erase(statefulsets),
  erase(daemonsets),
  erase(controllerrevisions),
  erase(jobs),
  erase(cronjobs),
  erase(ingresses),
  erase(ingressclasses),
  erase(networkpolicies),
  erase(leases),
  erase(endpointslices),
  erase(poddisruptionbudgets),
  // v2 first: it is the preferred and stored version.
  erase(horizontalpodautoscalersV2),
  erase(horizontalpodautoscalersV1),
  erase(storageclasses),
  erase(certificatesigningrequests),
];
