// What the node's networking parts (service proxy, cluster DNS, ingress controller, network
// policy) read: informer caches of the cluster objects they follow, and the node's addresses.
// Informer (controllers/framework/informer.ts) satisfies ObjectStore; tests pass test/support/memory-store.ts.
import type { Namespace, Pod, Secret, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Ingress, IngressClass, NetworkPolicy } from 'kubernetes-types/networking/v1.js';

export interface ObjectStore<T> {
  /** Every cached object, or those of one namespace. */
  list(namespace?: string): T[];
  /** By `namespace/name` (or `name` for cluster-scoped kinds). */
  get(key: string): T | undefined;
  on(event: 'add' | 'update' | 'delete', fn: (obj: T, old?: T) => void): void;
}

export interface ClusterState {
  services: ObjectStore<Service>;
  endpointSlices: ObjectStore<EndpointSlice>;
  pods: ObjectStore<Pod>;
  namespaces: ObjectStore<Namespace>;
  networkPolicies: ObjectStore<NetworkPolicy>;
  ingresses: ObjectStore<Ingress>;
  ingressClasses: ObjectStore<IngressClass>;
  secrets: ObjectStore<Secret>;
}

export interface NodeNetworkConfig {
  nodeName: string;
  /** The node's InternalIP: the host's address on the pod bridge (its gateway), e.g. 10.244.0.1. */
  nodeIP: string;
  /** The pod network, e.g. 10.244.0.0/16. */
  podCIDR: string;
  /** The Linux bridge interface of the pod network, e.g. br-3ec6a6c51b54. */
  bridge: string;
  /** Service ClusterIPs, e.g. 10.96.0.0/16. */
  serviceCIDR: string;
  /** Usually cluster.local. */
  clusterDomain: string;
}
