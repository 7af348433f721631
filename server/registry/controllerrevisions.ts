// apps/v1 ControllerRevision: an immutable snapshot of a controller's template, owned by a
// DaemonSet or StatefulSet. Validation as ValidateControllerRevision{Create,Update}.
import type { ControllerRevision } from 'kubernetes-types/apps/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors } from '../../apimachinery/validation.js';
import type { ResourceDefinition } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, age } from './printing.js';
import { goValue } from './go-format.js';
import { type Stored, immutable, nonNegative } from './workload-helpers.js';

type Obj = Stored<ControllerRevision>;

function validate(obj: Obj): FieldError[] {
  const out: FieldError[] = [];
  if (obj.data === undefined || obj.data === null) out.push(fieldErrors.required('data', 'data is mandatory'));
  out.push(...nonNegative('revision', obj.revision));
  return out;
}

/** "daemonset.apps/web": the controller's group-qualified kind, lower-cased, as upstream's printer. */
function controllerName(obj: Obj): string {
  const ref = obj.metadata?.ownerReferences?.find((r) => r.controller);
  if (!ref) return '<none>';
  const slash = ref.apiVersion.indexOf('/');
  const group = slash < 0 ? '' : ref.apiVersion.slice(0, slash);
  const kind = group ? `${ref.kind}.${group}` : ref.kind;
  return kind ? `${kind.toLowerCase()}/${ref.name}` : ref.name;
}

const controllerrevisions: ResourceDefinition<Obj> = {
  group: 'apps',
  version: 'v1',
  kind: 'ControllerRevision',
  plural: 'controllerrevisions',
  singular: 'controllerrevision',
  namespaced: true,
  strategy: {
    validate,
    validateUpdate: (obj, old) => immutable('data', obj.data, old.data, goValue),
  },
  table: {
    columns: [
      NAME_COLUMN,
      { name: 'Controller', type: 'string', description: 'Controller of the object' },
      { name: 'Revision', type: 'string', description: 'Revision indicates the revision of the state represented by Data.' },
      AGE_COLUMN,
    ],
    row: (obj) => [obj.metadata?.name ?? '', controllerName(obj), obj.revision ?? 0, age(obj.metadata?.creationTimestamp)],
  },
};

export default controllerrevisions;
