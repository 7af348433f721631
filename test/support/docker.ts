// Cleaning up after a test that ran pods on real Docker: only what that test made (its pod
// namespace's containers, their pods' volumes, its network), never anything else on the daemon.
import type Docker from 'dockerode';
import { MANAGED_LABEL, POD_NAMESPACE_LABEL, POD_UID_LABEL } from '../../node-agent/runtime/docker/labels.js';

/** `uids`: pods of the test that may have volumes left but no container any more. */
export async function removeTestPods(docker: Docker, namespace: string, network: string, uids: string[] = []): Promise<void> {
  const containers = await docker.listContainers({ all: true, filters: { label: [`${POD_NAMESPACE_LABEL}=${namespace}`] } }).catch(() => []);
  const pods = new Set(uids);
  for (const c of containers) {
    const uid = c.Labels?.[POD_UID_LABEL];
    if (uid) pods.add(uid);
    await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
  }
  // Volumes carry the pod's uid, not its namespace.
  const volumes = await docker.listVolumes({ filters: { label: [`${MANAGED_LABEL}=true`] } }).catch(() => ({ Volumes: [] }));
  for (const v of volumes.Volumes ?? []) if (pods.has(v.Labels?.[POD_UID_LABEL] ?? '')) await docker.getVolume(v.Name).remove().catch(() => undefined);
  await docker.getNetwork(network).remove().catch(() => undefined);
}
