// autoscaling/v1 HorizontalPodAutoscaler: served as v1, stored as v2 (shared storage with
// horizontalpodautoscalers-v2.ts). Validation and printing run on the v2 form, as upstream
// runs them on its internal type.
import type { ResourceDefinition } from './types.js';
import { HPA_COLUMNS, HPA_STORAGE_KEY, defaultHPAv2, hpaRow, validateHPAStatus, validateHPAv2 } from './hpa-common.js';
import { type HPAv1, hpaFromV1, hpaToV1 } from './hpa-v1-conversion.js';
import { setStatus } from './workload-helpers.js';

function toStorage(obj: HPAv1) {
  const v2 = hpaFromV1(obj);
  // v1 never had an explicit metric list: no CPU target means the default 80%.
  defaultHPAv2(v2);
  return v2;
}

const horizontalpodautoscalersV1: ResourceDefinition<HPAv1> = {
  group: 'autoscaling',
  version: 'v1',
  kind: 'HorizontalPodAutoscaler',
  plural: 'horizontalpodautoscalers',
  singular: 'horizontalpodautoscaler',
  namespaced: true,
  shortNames: ['hpa'],
  categories: ['all'],
  subresources: { status: true },
  strategy: {
    defaults(obj) {
      if (obj.spec) obj.spec.minReplicas ??= 1;
    },
    prepareForCreate(obj) {
      setStatus(obj, { currentReplicas: 0, desiredReplicas: 0 });
    },
    validate: (obj) => validateHPAv2(toStorage(obj)),
    validateStatusUpdate: (obj) => validateHPAStatus(hpaFromV1(obj)),
  },
  table: { columns: HPA_COLUMNS, row: (obj) => hpaRow(toStorage(obj)) },
  conversion: {
    storageKey: HPA_STORAGE_KEY,
    toStorage,
    fromStorage: hpaToV1,
  },
};

export default horizontalpodautoscalersV1;
