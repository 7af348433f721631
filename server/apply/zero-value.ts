// The object a create is compared against. Upstream diffs a new object with the kind's Go zero
// value, whose encoding already holds `metadata`, `spec`, `status` and every non-pointer struct
// (and null for lists without omitempty). Those parts are not "added" by a create, so they get no
// "." entry in the creator's FieldsV1: `f:spec` has none, `f:spec.f:template` neither, while
// `f:metadata.f:labels` does. Only structures matter here, leaves are owned either way.
import { definition } from '../../openapi/type-graph.js';
import { OBJECT_META, structField, type Shape } from './schema.js';

const core = 'io.k8s.api.core.v1.';
const apps = 'io.k8s.api.apps.v1.';
const batch = 'io.k8s.api.batch.v1.';

/** Fields below the root that Go writes for a zero value (non-pointer structs; `containers` is null). */
const PRESENT: Record<string, string[]> = {
  [`${core}PodTemplate`]: ['template'],
  [`${core}PodTemplateSpec`]: ['metadata', 'spec'],
  [`${core}PodSpec`]: ['containers'],
  [`${core}ServiceStatus`]: ['loadBalancer'],
  [`${core}NodeStatus`]: ['daemonEndpoints', 'nodeInfo'],
  [`${core}NodeDaemonEndpoints`]: ['kubeletEndpoint'],
  [`${core}PersistentVolumeClaimSpec`]: ['resources'],
  [`${core}Event`]: ['source'],
  [`${apps}DeploymentSpec`]: ['template', 'strategy'],
  [`${apps}StatefulSetSpec`]: ['template', 'updateStrategy'],
  [`${apps}DaemonSetSpec`]: ['template', 'updateStrategy'],
  [`${apps}ReplicaSetSpec`]: ['template'],
  [`${batch}JobSpec`]: ['template'],
  [`${batch}CronJobSpec`]: ['jobTemplate'],
  [`${batch}JobTemplateSpec`]: ['metadata', 'spec'],
  ['io.k8s.api.networking.v1.IngressStatus']: ['loadBalancer'],
};

/** Every root struct field Go always writes: the object meta and the spec and status structs. */
const ROOT_PRESENT = ['metadata', 'spec', 'status'];

const cache = new Map<string, Record<string, unknown>>();

/** A fresh copy of the kind's zero value, as far as its structure goes. */
export function zeroValue(root: Shape): Record<string, unknown> {
  if (root.kind !== 'struct') return {};
  let zero = cache.get(root.def);
  if (!zero) cache.set(root.def, (zero = build(root.def, ROOT_PRESENT)));
  return structuredClone(zero);
}

function build(def: string, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!definition(def) && def !== '#custom') return out;
  for (const f of fields) {
    const shape = structField(def, f);
    if (!shape) continue;
    if (shape.kind === 'struct') out[f] = shape.def === OBJECT_META ? {} : build(shape.def, PRESENT[shape.def] ?? []);
    else if (shape.kind === 'assoc' || shape.kind === 'set') out[f] = null;
  }
  return out;
}
