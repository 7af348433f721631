// The scale subresource: an autoscaling/v1 Scale view of a workload's replicas.
import type { Scale } from 'kubernetes-types/autoscaling/v1.js';
import type { KubeObject, ScaleSubresource } from '../registry/types.js';
import { badRequest, invalid } from '../../apimachinery/errors.js';
import { fieldErrors } from '../../apimachinery/validation.js';

export function scaleOf(scale: ScaleSubresource, obj: KubeObject): Scale {
  const m = obj.metadata!;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: scale.specReplicas(obj) },
    status: { replicas: scale.statusReplicas(obj), selector: scale.selector(obj) },
  };
}

/** Writes the replicas of a new Scale into the object; a resourceVersion in it is a precondition. */
export function applyScale(scale: ScaleSubresource, obj: KubeObject, next: KubeObject): KubeObject {
  const replicas = (next.spec as { replicas?: unknown } | undefined)?.replicas ?? 0;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas)) throw badRequest('spec.replicas must be an integer');
  if (replicas < 0) throw invalid('Scale', 'autoscaling', obj.metadata!.name!, [fieldErrors.invalid('spec.replicas', replicas, 'must be greater than or equal to 0')]);
  scale.setSpecReplicas(obj, replicas);
  const rv = next.metadata?.resourceVersion;
  if (rv) obj.metadata!.resourceVersion = rv;
  return obj;
}
