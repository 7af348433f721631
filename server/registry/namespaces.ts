// core/v1 namespaces: SetDefaults_Namespace(Status), the namespace strategy (the "kubernetes"
// finalizer on create, spec and status kept on update), ValidateNamespace and printNamespace.
import type { Namespace } from 'kubernetes-types/core/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors, isDNS1123Label, isQualifiedName } from '../../apimachinery/validation.js';
import type { ResourceDefinition } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, age } from './printing.js';
import { col, type Stored } from './core-helpers.js';

type NamespaceObject = Stored<Namespace>;

const STANDARD_FINALIZERS = ['kubernetes', 'orphan', 'foregroundDeletion'];

export function validateNamespace(ns: Namespace): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of ns.spec?.finalizers ?? []) {
    errs.push(...isQualifiedName(f).map((m) => fieldErrors.invalid('spec.finalizers', f, m)));
    if (!f.includes('/') && !STANDARD_FINALIZERS.includes(f)) {
      errs.push(fieldErrors.invalid('spec.finalizers', f, 'name is neither a standard finalizer name nor is it fully qualified'));
    }
  }
  return errs;
}

function validateNamespaceStatus(ns: Namespace): FieldError[] {
  const phase = ns.status?.phase ?? '';
  if (!ns.metadata?.deletionTimestamp) {
    return phase === 'Active' ? [] : [fieldErrors.invalid('status.Phase', phase, "may only be 'Active' if `deletionTimestamp` is empty")];
  }
  return phase === 'Terminating' ? [] : [fieldErrors.invalid('status.Phase', phase, "may only be 'Terminating' if `deletionTimestamp` is not empty")];
}

const namespaces: ResourceDefinition<NamespaceObject> = {
  group: '',
  version: 'v1',
  kind: 'Namespace',
  plural: 'namespaces',
  singular: 'namespace',
  namespaced: false,
  nameValidator: isDNS1123Label,
  shortNames: ['ns'],
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  subresources: { status: true },
  fieldSelectors: { 'status.phase': (ns) => ns.status?.phase ?? '' },
  strategy: {
    defaults(ns) {
      const name = ns.metadata?.name;
      if (name) (ns.metadata!.labels ??= {})['kubernetes.io/metadata.name'] = name;
      ns.status ??= {};
      ns.status.phase ||= 'Active';
    },
    prepareForCreate(ns) {
      ns.status = { phase: 'Active' };
      const spec = (ns.spec ??= {});
      // Required on create only: the namespace controller removes it during deletion.
      if (!spec.finalizers?.includes('kubernetes')) spec.finalizers = [...(spec.finalizers ?? []), 'kubernetes'];
    },
    prepareForUpdate(ns, old) {
      ns.spec = { ...(ns.spec ?? {}), finalizers: old.spec?.finalizers };
      if (!ns.spec.finalizers) delete ns.spec.finalizers;
      ns.status = old.status;
    },
    validate: validateNamespace,
    validateStatusUpdate: validateNamespaceStatus,
  },
  table: {
    columns: [NAME_COLUMN, col('Status', 'The status of the namespace'), AGE_COLUMN],
    row: (ns) => [ns.metadata?.name, ns.status?.phase ?? '', age(ns.metadata?.creationTimestamp)],
  },
};

export default namespaces;
