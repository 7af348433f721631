// networking.k8s.io/v1 IngressClass (cluster-scoped): SetDefaults_IngressClass,
// ValidateIngressClass{,Update} (domain-prefixed controller, parameters reference) and printer.
import type { IngressClass, IngressClassParametersReference } from 'kubernetes-types/networking/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors, isDNS1123Label } from '../../apimachinery/validation.js';
import type { ResourceDefinition } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, age } from './printing.js';
import { goValue } from './go-format.js';
import { isDomainPrefixedPath } from './net-validation.js';
import { validateTypedLocalObjectReference } from './ingresses.js';
import { type Stored, immutable } from './workload-helpers.js';

type Obj = Stored<IngressClass>;

const MAX_CONTROLLER_LENGTH = 250;

function validateParameters(p: IngressClassParametersReference | undefined, path: string): FieldError[] {
  if (!p) return [];
  const out = validateTypedLocalObjectReference(p, path);
  if (p.scope === undefined) return [...out, fieldErrors.required(`${path}.scope`)];
  if (p.scope !== 'Cluster' && p.scope !== 'Namespace') return [...out, fieldErrors.notSupported(`${path}.scope`, p.scope, ['Cluster', 'Namespace'])];
  if (p.scope === 'Namespace') {
    if (p.namespace === undefined) out.push(fieldErrors.required(`${path}.namespace`, "`parameters.scope` is set to 'Namespace'"));
    else for (const m of isDNS1123Label(p.namespace)) out.push(fieldErrors.invalid(`${path}.namespace`, p.namespace, m));
  }
  if (p.scope === 'Cluster' && p.namespace !== undefined) out.push(fieldErrors.forbidden(`${path}.namespace`, "`parameters.scope` is set to 'Cluster'"));
  return out;
}

function validate(obj: Obj): FieldError[] {
  const controller = obj.spec?.controller ?? '';
  const out: FieldError[] = [];
  if (controller.length > MAX_CONTROLLER_LENGTH) out.push(fieldErrors.tooLong('spec.controller', MAX_CONTROLLER_LENGTH));
  out.push(...isDomainPrefixedPath('spec.controller', controller));
  out.push(...validateParameters(obj.spec?.parameters, 'spec.parameters'));
  return out;
}

function parametersCell(obj: Obj): string {
  const p = obj.spec?.parameters;
  if (!p) return '<none>';
  return `${p.kind}${p.apiGroup !== undefined ? `.${p.apiGroup}` : ''}/${p.name}`;
}

const ingressclasses: ResourceDefinition<Obj> = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'IngressClass',
  plural: 'ingressclasses',
  singular: 'ingressclass',
  namespaced: false,
  generation: true,
  strategy: {
    defaults(obj) {
      const p = (obj.spec ??= {}).parameters;
      if (p) p.scope ??= 'Cluster';
    },
    validate,
    validateUpdate: (obj, old) => immutable('spec.controller', obj.spec?.controller ?? '', old.spec?.controller ?? '', goValue),
  },
  table: {
    columns: [
      NAME_COLUMN,
      { name: 'Controller', type: 'string', description: 'Controller that is responsible for handling this class' },
      { name: 'Parameters', type: 'string', description: 'A reference to a resource with additional parameters' },
      AGE_COLUMN,
    ],
    row: (obj) => [obj.metadata?.name ?? '', obj.spec?.controller ?? '', parametersCell(obj), age(obj.metadata?.creationTimestamp)],
  },
};

export default ingressclasses;
