// Adoption and orphaning, as upstream's BaseControllerRefManager.ClaimObject: a controller
// owns the objects whose controller reference names it; it adopts matching orphans and
// releases owned objects that no longer match its selector.
import type { ObjectMeta, OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { Selector } from '../apimachinery/labels.js';
import { matchesLabels } from '../apimachinery/labels.js';
import { ApiClient, isNotFound } from './framework/client.js';
import { controllerRef, newControllerRef, type Owner } from './controller-utils.js';

export type ClaimAction = 'keep' | 'adopt' | 'release' | 'ignore';

/** The pure decision of ClaimObject for one object. */
export function claimAction(owner: Owner, selector: Selector, obj: { metadata?: ObjectMeta }): ClaimAction {
  const ref = controllerRef(obj.metadata);
  const matches = selector.length > 0 && matchesLabels(selector, obj.metadata?.labels);
  if (ref) {
    if (ref.uid !== owner.metadata?.uid) return 'ignore';
    if (matches) return 'keep';
    // An owner being deleted keeps its objects so the garbage collector finds them.
    if (owner.metadata?.deletionTimestamp || obj.metadata?.deletionTimestamp) return 'keep';
    return 'release';
  }
  if (!matches || owner.metadata?.deletionTimestamp || obj.metadata?.deletionTimestamp) return 'ignore';
  return 'adopt';
}

export interface ClaimOptions {
  client: ApiClient;
  /** Collection path of the objects, e.g. /api/v1/namespaces/ns/pods. */
  path: string;
  /** Re-reads the owner before adopting: never adopt for a deleted or replaced owner (RecheckDeletionTimestamp). */
  canAdopt: () => Promise<boolean>;
}

export async function claimObjects<T extends { metadata?: ObjectMeta }>(owner: Owner, selector: Selector, objects: T[], o: ClaimOptions): Promise<T[]> {
  const claimed: T[] = [];
  let adoptable: boolean | undefined;
  for (const obj of objects) {
    const action = claimAction(owner, selector, obj);
    const m = obj.metadata!;
    if (action === 'keep') claimed.push(obj);
    else if (action === 'adopt') {
      adoptable ??= await o.canAdopt();
      if (!adoptable) continue;
      try {
        const patched = await o.client.patch<T>(
          `${o.path}/${m.name}`,
          { metadata: { ownerReferences: [newControllerRef(owner)], uid: m.uid } },
          'strategic',
        );
        claimed.push(patched);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    } else if (action === 'release') {
      try {
        const ref = controllerRef(m) as OwnerReference;
        await o.client.patch(`${o.path}/${m.name}`, { metadata: { ownerReferences: [{ $patch: 'delete', uid: ref.uid }], uid: m.uid } }, 'strategic');
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }
  return claimed;
}
