// NamespaceLifecycle: no content in a namespace that does not exist or is terminating, and the
// system namespaces cannot be deleted.
import type { AdmissionPlugin } from './types.js';
import { forbidden, notFound, StatusError } from '../../apimachinery/errors.js';

const IMMORTAL = new Set(['default', 'kube-system', 'kube-public']);

export const namespaceLifecycle: AdmissionPlugin = {
  name: 'NamespaceLifecycle',
  // Runs first among the mutating plugins, so content for a missing or terminating namespace
  // is refused before any other plugin looks at it (e.g. the service-account lookup).
  async admit(req) {
    const { def } = req;
    if (req.operation === 'DELETE' && def.group === '' && def.plural === 'namespaces' && IMMORTAL.has(req.name)) {
      throw forbidden({ group: '', resource: 'namespaces' }, req.name, 'this namespace may not be deleted');
    }
    if (req.operation !== 'CREATE' || !def.namespaced) return;
    const namespaces = req.registry.store('', 'namespaces');
    const entry = (await namespaces.fresh()).get(req.namespace);
    if (!entry) throw notFound({ group: '', resource: 'namespaces' }, req.namespace);
    const phase = (entry.object.status as { phase?: string } | undefined)?.phase;
    if (entry.object.metadata?.deletionTimestamp || phase === 'Terminating') {
      throw new StatusError(403, 'Forbidden', `${def.kind === 'Namespace' ? 'namespaces' : def.group ? `${def.plural}.${def.group}` : def.plural} "${req.object?.metadata?.name ?? req.object?.metadata?.generateName ?? ''}" is forbidden: unable to create new content in namespace ${req.namespace} because it is being terminated`, {
        name: req.object?.metadata?.name, group: def.group, kind: def.plural,
        causes: [{ reason: 'NamespaceTerminating', message: `namespace ${req.namespace} is being terminated`, field: 'metadata.namespace' }],
      });
    }
  },
};
