// core/v1 podtemplates: template defaults and validation, a generation that follows template
// changes (as upstream's podTemplateStrategy), and printPodTemplate.
import type { PodTemplate } from 'kubernetes-types/core/v1.js';
import type { ResourceDefinition } from './types.js';
import { NAME_COLUMN } from './printing.js';
import { col, formatLabels, type Stored } from './core-helpers.js';
import { defaultPodTemplateSpec, validatePodTemplateSpec } from './pod-spec.js';

type PodTemplateObject = Stored<PodTemplate>;

const podtemplates: ResourceDefinition<PodTemplateObject> = {
  group: '',
  version: 'v1',
  kind: 'PodTemplate',
  plural: 'podtemplates',
  singular: 'podtemplate',
  namespaced: true,
  generation: true,
  strategy: {
    defaults(t) {
      if (t.template) defaultPodTemplateSpec(t.template);
    },
    validate: (t) => validatePodTemplateSpec(t.template, 'template'),
  },
  table: {
    columns: [
      NAME_COLUMN,
      col('Containers', 'Names of each container in the template.'),
      col('Images', 'Images referenced by each container in the template.'),
      col('Pod Labels', 'The labels for the pod template.'),
    ],
    row(t) {
      const containers = t.template?.spec?.containers ?? [];
      return [t.metadata?.name, containers.map((c) => c.name).join(','), containers.map((c) => c.image ?? '').join(','), formatLabels(t.template?.metadata?.labels)];
    },
  },
};

export default podtemplates;
