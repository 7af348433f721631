// Every controller the controller manager runs. To add one, import it and append it here.
import type { Controller } from './framework/controller.js';
import { DaemonSetController } from './daemonset.js';
import { DeploymentController } from './deployment.js';
import { GarbageCollector } from './garbage-collector.js';
import { NamespaceController } from './namespace.js';
import { ReplicaSetController } from './replicaset.js';
import { RootCACertPublisher } from './root-ca-publisher.js';
import { ServiceAccountsController } from './serviceaccount.js';
import { EndpointsController } from './endpoints.js';
import { EndpointSliceController } from './endpointslice.js';
import { StatefulSetController } from './statefulset.js';
import { JobController } from './job.js';
import { CronJobController } from './cronjob.js';
import { TTLAfterFinishedController } from './job-ttl.js';
import { NodeLifecycleController } from './node-lifecycle.js';
import { DisruptionController } from './disruption.js';
import { PersistentVolumeBinderController } from './persistentvolume-binder.js';
import { HorizontalPodAutoscalerController } from './horizontal-pod-autoscaler.js';
import { ClusterRoleAggregationController } from './clusterrole-aggregation.js';
import { CSRSigningController, type CSRSigningOptions } from './csr-signing.js';

export interface ControllerOptions {
  /** The CA files the csrsigning controller signs with (--cluster-signing-cert-file/-key-file). */
  csrSigning?: CSRSigningOptions;
}

export function allControllers(opts: ControllerOptions = {}): Controller[] {
  return [
    new NamespaceController(),
    new ServiceAccountsController(),
    new RootCACertPublisher(),
    new GarbageCollector(),
    new ReplicaSetController(),
    new DeploymentController(),
    new StatefulSetController(),
    new DaemonSetController(),
    new EndpointsController(),
    new EndpointSliceController(),
    new JobController(),
    new CronJobController(),
    new TTLAfterFinishedController(),
    new NodeLifecycleController(),
    new DisruptionController(),
    new PersistentVolumeBinderController(),
    new HorizontalPodAutoscalerController(),
    new ClusterRoleAggregationController(),
    new CSRSigningController(opts.csrSigning),
  ];
}
