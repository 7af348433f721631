// Server-side apply (PATCH with application/apply-patch+yaml) on top of the generic store:
// apply to the live object, or create it from the applied configuration when there is none.
import type { KubeObject } from '../registry/types.js';
import { apiVersionOf } from '../registry/types.js';
import { fieldManagerOf, type Store, type WriteOptions } from './store.js';
import { serverSideApply } from '../apply/index.js';
import { StatusError } from '../../apimachinery/errors.js';
import { nowTimestamp } from '../../apimachinery/object-meta.js';

export interface ApplyOptions extends WriteOptions { force: boolean }

export async function applyObject(store: Store, namespace: string, name: string, applied: KubeObject, opts: ApplyOptions): Promise<{ object: KubeObject; created: boolean }> {
  if (!opts.fieldManager) {
    throw new StatusError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch', { group: 'meta.k8s.io', kind: 'PatchOptions', causes: [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }] });
  }
  const bodyName = applied.metadata?.name;
  if (bodyName !== undefined && bodyName !== name) throw new StatusError(400, 'BadRequest', `the name of the object (${bodyName}) does not match the name on the URL (${name})`);
  const manager = fieldManagerOf(opts);
  const applyOpts = () => ({ force: opts.force, time: nowTimestamp(), apiVersion: apiVersionOf(store.def) });
  const writeOpts: WriteOptions = { ...opts, operation: 'Apply' };
  for (let attempt = 0; attempt < 5; attempt++) {
    const live = (await store.fresh()).get(store.key(namespace, name));
    try {
      if (!live) {
        const obj = serverSideApply(undefined, { ...applied, metadata: { ...applied.metadata, name } }, manager, store.schema, applyOpts());
        return { object: await store.create(namespace, obj, writeOpts), created: true };
      }
      const object = await store.guaranteedUpdate(namespace, name, (cur) => serverSideApply(cur, applied, manager, store.schema, applyOpts()), writeOpts);
      return { object, created: false };
    } catch (err) {
      // The object appeared or went between the read and the write: apply again to what is there now.
      if (err instanceof StatusError && ((!live && err.reason === 'AlreadyExists') || (live && err.code === 404))) continue;
      throw err;
    }
  }
  throw new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${store.gr.resource} "${name}": the object changed too often while being applied; try again`);
}
