// Admission: the mutating and validating plugins every write passes through after decoding and
// defaulting, before validation and storage (upstream's admission chain).
import type { ResourceDefinition, KubeObject } from '../registry/types.js';
import type { Registry } from '../generic/registry.js';
import type { UserInfo } from '../auth/types.js';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE';

export interface AdmissionRequest {
  operation: Operation;
  def: ResourceDefinition;
  subresource: string;
  namespace: string;
  name: string;
  /** The new object (served form); plugins may mutate it. Undefined for DELETE. */
  object?: KubeObject;
  oldObject?: KubeObject;
  dryRun: boolean;
  registry: Registry;
  /** The requester; undefined only for the API server's own writes (bootstrap). */
  user?: UserInfo;
}

export interface AdmissionPlugin {
  name: string;
  admit?(req: AdmissionRequest): Promise<void> | void;
  validate?(req: AdmissionRequest): Promise<void> | void;
  /** Runs after the write is stored (e.g. release an allocated IP when a create failed). */
  afterWrite?(req: AdmissionRequest, outcome: 'stored' | 'failed'): Promise<void> | void;
}
