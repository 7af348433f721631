// autoscaling/v2 HorizontalPodAutoscaler, the stored form of both served versions
// (autoscaling/v1 converts to and from it, see horizontalpodautoscalers-v1.ts).
import type { ResourceDefinition } from './types.js';
import { HPA_COLUMNS, HPA_STORAGE_KEY, type HPAv2, defaultHPAv2, hpaRow, validateHPAStatus, validateHPAv2 } from './hpa-common.js';
import { setStatus } from './workload-helpers.js';

const horizontalpodautoscalersV2: ResourceDefinition<HPAv2> = {
  group: 'autoscaling',
  version: 'v2',
  kind: 'HorizontalPodAutoscaler',
  plural: 'horizontalpodautoscalers',
  singular: 'horizontalpodautoscaler',
  namespaced: true,
  shortNames: ['hpa'],
  categories: ['all'],
  subresources: { status: true },
  strategy: {
    defaults: defaultHPAv2,
    prepareForCreate(obj) {
      setStatus(obj, { desiredReplicas: 0 });
    },
    validate: validateHPAv2,
    validateStatusUpdate: validateHPAStatus,
  },
  table: { columns: HPA_COLUMNS, row: hpaRow },
  conversion: {
    storageKey: HPA_STORAGE_KEY,
    toStorage: (obj) => ({ ...obj, apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' }),
    fromStorage: (obj) => ({ ...(obj as HPAv2), apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' }),
  },
};

export default horizontalpodautoscalersV2;
