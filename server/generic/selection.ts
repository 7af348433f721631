// List options and the selection predicate (label + field selectors) a list or watch applies.
import type { KubeObject, ResourceDefinition } from '../registry/types.js';
import { matchesLabels, parseLabelSelector, type Selector } from '../../apimachinery/labels.js';
import { matchesFields, parseFieldSelector, type FieldRequirement } from '../../apimachinery/fields.js';
import { badRequest } from '../../apimachinery/errors.js';

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
  timeoutSeconds?: number;
  allowWatchBookmarks?: boolean;
  sendInitialEvents?: boolean;
}

export interface SelectionPredicate {
  matches(obj: KubeObject): boolean;
  empty: boolean;
}

export function selectionPredicate(def: ResourceDefinition, opts: ListOptions): SelectionPredicate {
  const labels: Selector = parseLabelSelector(opts.labelSelector);
  const fields: FieldRequirement[] = parseFieldSelector(opts.fieldSelector);
  const extra = def.fieldSelectors ?? {};
  for (const f of fields) {
    if (f.field !== 'metadata.name' && f.field !== 'metadata.namespace' && !(f.field in extra)) {
      throw badRequest(`field label not supported: ${f.field}`);
    }
  }
  return {
    empty: labels.length === 0 && fields.length === 0,
    matches(obj: KubeObject): boolean {
      if (labels.length && !matchesLabels(labels, obj.metadata?.labels)) return false;
      if (fields.length) {
        const lookup = (name: string): string | undefined => {
          if (name === 'metadata.name') return obj.metadata?.name;
          if (name === 'metadata.namespace') return obj.metadata?.namespace ?? '';
          return (extra[name] as (o: KubeObject) => string | undefined)(obj);
        };
        if (!matchesFields(fields, lookup)) return false;
      }
      return true;
    },
  };
}
