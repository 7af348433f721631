// coordination.k8s.io/v1 Lease: leader election and node heartbeats. ValidateLeaseSpec and
// the printer; no status, no generation (upstream's strategy keeps neither).
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors } from '../../apimachinery/validation.js';
import type { ResourceDefinition } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, age } from './printing.js';
import type { Stored } from './workload-helpers.js';

type Obj = Stored<Lease>;

function validate(obj: Obj): FieldError[] {
  const spec = obj.spec ?? {};
  const out: FieldError[] = [];
  if (spec.leaseDurationSeconds !== undefined && spec.leaseDurationSeconds <= 0) {
    out.push(fieldErrors.invalid('spec.leaseDurationSeconds', spec.leaseDurationSeconds, 'must be greater than 0'));
  }
  if (spec.leaseTransitions !== undefined && spec.leaseTransitions < 0) {
    out.push(fieldErrors.invalid('spec.leaseTransitions', spec.leaseTransitions, 'must be greater than or equal to 0'));
  }
  const preferred = (spec as { preferredHolder?: string }).preferredHolder;
  if (preferred && !spec.holderIdentity) {
    out.push(fieldErrors.forbidden('spec.preferredHolder', 'may not be specified without holderIdentity'));
  }
  return out;
}

const leases: ResourceDefinition<Obj> = {
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  plural: 'leases',
  singular: 'lease',
  namespaced: true,
  // LeaseSpec is a struct upstream, so an object always shows `spec: {}`.
  strategy: { defaults: (obj) => { obj.spec ??= {}; }, validate },
  table: {
    columns: [
      NAME_COLUMN,
      { name: 'Holder', type: 'string', description: 'holderIdentity contains the identity of the holder of a current lease.' },
      AGE_COLUMN,
    ],
    row: (obj) => [obj.metadata?.name ?? '', obj.spec?.holderIdentity ?? '', age(obj.metadata?.creationTimestamp)],
  },
};

export default leases;
