// The API objects a pod references by name: what upstream's podutil.VisitPodSecretNames and
// VisitPodConfigmapNames walk. The Node authorizer grants a node read access along these edges,
// and NodeRestriction forbids nodes to create (mirror) pods that have any of them.
import type { Container, EphemeralContainer, Pod, Volume } from 'kubernetes-types/core/v1.js';

type AnyContainer = Container | EphemeralContainer;

function containers(pod: Pod): AnyContainer[] {
  const spec = pod.spec;
  if (!spec) return [];
  return [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])];
}

/** The secret a volume source names, if any (every in-tree source with a secret reference). */
function volumeSecret(v: Volume): string[] {
  const names: (string | undefined)[] = [
    v.secret?.secretName,
    v.azureFile?.secretName,
    v.cephfs?.secretRef?.name,
    v.cinder?.secretRef?.name,
    v.flexVolume?.secretRef?.name,
    v.rbd?.secretRef?.name,
    v.iscsi?.secretRef?.name,
    v.scaleIO?.secretRef?.name,
    v.storageos?.secretRef?.name,
    v.csi?.nodePublishSecretRef?.name,
    ...(v.projected?.sources ?? []).map((s) => s.secret?.name),
  ];
  return names.filter((n): n is string => !!n);
}

/** Names of the secrets the pod uses: image pull secrets, env, envFrom and volumes. */
export function podSecretNames(pod: Pod): Set<string> {
  const out = new Set<string>();
  for (const s of pod.spec?.imagePullSecrets ?? []) if (s.name) out.add(s.name);
  for (const c of containers(pod)) {
    for (const e of c.envFrom ?? []) if (e.secretRef?.name) out.add(e.secretRef.name);
    for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef?.name) out.add(e.valueFrom.secretKeyRef.name);
  }
  for (const v of pod.spec?.volumes ?? []) for (const n of volumeSecret(v)) out.add(n);
  return out;
}

/** Names of the config maps the pod uses: env, envFrom and volumes (plain and projected). */
export function podConfigMapNames(pod: Pod): Set<string> {
  const out = new Set<string>();
  for (const c of containers(pod)) {
    for (const e of c.envFrom ?? []) if (e.configMapRef?.name) out.add(e.configMapRef.name);
    for (const e of c.env ?? []) if (e.valueFrom?.configMapKeyRef?.name) out.add(e.valueFrom.configMapKeyRef.name);
  }
  for (const v of pod.spec?.volumes ?? []) {
    if (v.configMap?.name) out.add(v.configMap.name);
    for (const s of v.projected?.sources ?? []) if (s.configMap?.name) out.add(s.configMap.name);
  }
  return out;
}

/**
 * Names of the claims the pod mounts: persistentVolumeClaim volumes, and the claim a generic
 * ephemeral volume gets (named <pod>-<volume>, as upstream's ephemeral.VolumeClaimName).
 */
export function podClaimNames(pod: Pod): Set<string> {
  const out = new Set<string>();
  for (const v of pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim?.claimName) out.add(v.persistentVolumeClaim.claimName);
    else if (v.ephemeral) out.add(`${pod.metadata?.name ?? ''}-${v.name}`);
  }
  return out;
}
