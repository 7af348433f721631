// apps/v1 StatefulSet: SetDefaults_StatefulSet (with the claim templates' own defaults),
// ValidateStatefulSet* (most of the spec is immutable), status rules and the printer.
import type { StatefulSet, StatefulSetSpec, StatefulSetUpdateStrategy } from 'kubernetes-types/apps/v1.js';
import type { PodTemplateSpec, Volume } from 'kubernetes-types/core/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors } from '../../apimachinery/validation.js';
import type { ResourceDefinition } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, age } from './printing.js';
import { defaultPodTemplateSpec } from './pod-spec.js';
import { goLabelSelector, goValue, invalidRaw } from './go-format.js';
import { isParseableSelector } from './label-selector-validation.js';
import {
  CONTAINERS_COLUMN, IMAGES_COLUMN, type Stored, clone, containerCells, deepEqual, nonNegative, nonNegativeFields,
  notMoreThan100Percent, replicasScale, setStatus, validateControllerTemplate, validatePositiveIntOrPercent,
  validateRequiredSelector,
} from './workload-helpers.js';

type Obj = Stored<StatefulSet>;

function defaults(obj: Obj): void {
  const spec = (obj.spec ??= { template: {} } as StatefulSetSpec);
  spec.podManagementPolicy ||= 'OrderedReady';
  const us = (spec.updateStrategy ??= {});
  if (!us.type) {
    us.type = 'RollingUpdate';
    us.rollingUpdate ??= {};
  }
  if (us.type === 'RollingUpdate' && us.rollingUpdate) us.rollingUpdate.partition ??= 0;
  const retention = (spec.persistentVolumeClaimRetentionPolicy ??= {});
  retention.whenDeleted ||= 'Retain';
  retention.whenScaled ||= 'Retain';
  spec.replicas ??= 1;
  spec.revisionHistoryLimit ??= 10;
  defaultPodTemplateSpec((spec.template ??= {}));
  for (const pvc of spec.volumeClaimTemplates ?? []) {
    // Claim templates are whole PersistentVolumeClaims and get that kind's defaults.
    pvc.apiVersion ??= 'v1';
    pvc.kind ??= 'PersistentVolumeClaim';
    if (pvc.spec) pvc.spec.volumeMode ??= 'Filesystem';
    setStatus(pvc, { ...(pvc.status ?? {}), phase: pvc.status?.phase || 'Pending' });
  }
}

function validateUpdateStrategy(us: StatefulSetUpdateStrategy | undefined, path: string): FieldError[] {
  switch (us?.type ?? '') {
    case '':
      return [fieldErrors.required(path)];
    case 'OnDelete':
      return us?.rollingUpdate
        ? [invalidRaw(`${path}.rollingUpdate`, goValue(us.rollingUpdate), "only allowed for updateStrategy 'RollingUpdate'")]
        : [];
    case 'RollingUpdate': {
      const ru = us?.rollingUpdate;
      if (!ru) return [];
      const out = nonNegative(`${path}.rollingUpdate.partition`, ru.partition);
      if (ru.maxUnavailable !== undefined) {
        out.push(...validatePositiveIntOrPercent(ru.maxUnavailable, `${path}.rollingUpdate.maxUnavailable`));
        if (ru.maxUnavailable === 0 || ru.maxUnavailable === '0%') {
          out.push(invalidRaw(`${path}.rollingUpdate.maxUnavailable`, goValue(ru.maxUnavailable), 'must be greater than 0'));
        }
        out.push(...notMoreThan100Percent(ru.maxUnavailable, `${path}.rollingUpdate.maxUnavailable`));
      }
      return out;
    }
    default:
      return [invalidRaw(path, goValue(us), "must be 'RollingUpdate' or 'OnDelete'")];
  }
}

function validateRetention(p: StatefulSetSpec['persistentVolumeClaimRetentionPolicy'], path: string): FieldError[] {
  const out: FieldError[] = [];
  for (const k of ['whenDeleted', 'whenScaled'] as const) {
    const v = p?.[k];
    if (v !== undefined && v !== 'Retain' && v !== 'Delete') out.push(fieldErrors.notSupported(`${path}.${k}`, v, ['Retain', 'Delete']));
  }
  return out;
}

/** The template as pods will get it: claim templates become volumes the containers may mount. */
function templateWithClaims(spec: StatefulSetSpec): PodTemplateSpec | undefined {
  if (!spec.template || !spec.volumeClaimTemplates?.length) return spec.template;
  const t = clone(spec.template);
  const claimVolumes: Volume[] = spec.volumeClaimTemplates.map((c) => ({
    name: c.metadata?.name ?? '', persistentVolumeClaim: { claimName: c.metadata?.name ?? '' },
  }));
  t.spec = { ...(t.spec ?? { containers: [] }), volumes: [...(t.spec?.volumes ?? []), ...claimVolumes] };
  return t;
}

function validateSpec(spec: StatefulSetSpec | undefined, path: string): FieldError[] {
  const s = spec ?? ({} as StatefulSetSpec);
  const out: FieldError[] = [];
  switch (s.podManagementPolicy ?? '') {
    case '': out.push(fieldErrors.required(`${path}.podManagementPolicy`)); break;
    case 'OrderedReady': case 'Parallel': break;
    default: out.push(fieldErrors.invalid(`${path}.podManagementPolicy`, s.podManagementPolicy, "must be 'OrderedReady' or 'Parallel'"));
  }
  out.push(...validateUpdateStrategy(s.updateStrategy, `${path}.updateStrategy`));
  out.push(...validateRetention(s.persistentVolumeClaimRetentionPolicy, `${path}.persistentVolumeClaimRetentionPolicy`));
  out.push(...nonNegative(`${path}.replicas`, s.replicas), ...nonNegative(`${path}.minReadySeconds`, s.minReadySeconds));
  if (s.ordinals) out.push(...nonNegative(`${path}.ordinals.start`, s.ordinals.start));
  out.push(...validateRequiredSelector(s.selector, `${path}.selector`, 'statefulset'));
  if (!isParseableSelector(s.selector)) out.push(invalidRaw(`${path}.selector`, goLabelSelector(s.selector), ''));
  // validateControllerTemplate also carries the restartPolicy and activeDeadlineSeconds rules.
  else out.push(...validateControllerTemplate(templateWithClaims(s), s.selector, `${path}.template`, 'StatefulSet'));
  (s.volumeClaimTemplates ?? []).forEach((c, i) => {
    if (!c.metadata?.name) out.push(fieldErrors.required(`${path}.volumeClaimTemplates[${i}].metadata.name`, 'name or generateName is required'));
  });
  return out;
}

/** maxUnavailable belongs to the alpha MaxUnavailableStatefulSet gate (off): dropped unless already in use. */
function dropMaxUnavailable(obj: Obj, old: Obj | undefined): void {
  const ru = obj.spec?.updateStrategy?.rollingUpdate;
  if (ru && old?.spec?.updateStrategy?.rollingUpdate?.maxUnavailable === undefined) delete ru.maxUnavailable;
}

const MUTABLE = ['replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'] as const;

function validateUpdate(obj: Obj, old: Obj): FieldError[] {
  const next = { ...(obj.spec ?? {}) } as Record<string, unknown>;
  const prev = (old.spec ?? {}) as unknown as Record<string, unknown>;
  for (const k of MUTABLE) next[k] = prev[k];
  if (deepEqual(next, prev)) return [];
  return [fieldErrors.forbidden('spec', "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")];
}

function validateStatus(obj: Obj, old: Obj): FieldError[] {
  const st = obj.status ?? { replicas: 0 };
  const out = nonNegativeFields(st, 'status', ['replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas', 'observedGeneration', 'collisionCount']);
  const msg = 'cannot be greater than status.replicas';
  const replicas = st.replicas ?? 0;
  for (const k of ['readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas'] as const) {
    if ((st[k] ?? 0) > replicas) out.push(fieldErrors.invalid(`status.${k}`, st[k], msg));
  }
  if ((st.availableReplicas ?? 0) > (st.readyReplicas ?? 0)) {
    out.push(fieldErrors.invalid('status.availableReplicas', st.availableReplicas, 'cannot be greater than status.readyReplicas'));
  }
  const oldCount = old.status?.collisionCount;
  if (oldCount !== undefined && (st.collisionCount ?? 0) < oldCount) {
    out.push(fieldErrors.invalid('status.collisionCount', st.collisionCount ?? 0, 'cannot be decremented'));
  }
  return out;
}

const statefulsets: ResourceDefinition<Obj> = {
  group: 'apps',
  version: 'v1',
  kind: 'StatefulSet',
  plural: 'statefulsets',
  singular: 'statefulset',
  namespaced: true,
  shortNames: ['sts'],
  categories: ['all'],
  generation: true,
  subresources: { status: true, scale: replicasScale },
  strategy: {
    defaults,
    prepareForCreate(obj) {
      setStatus(obj, { replicas: 0, availableReplicas: 0 });
      dropMaxUnavailable(obj, undefined);
    },
    prepareForUpdate: dropMaxUnavailable,
    validate: (obj) => validateSpec(obj.spec, 'spec'),
    validateUpdate,
    validateStatusUpdate: validateStatus,
  },
  table: {
    columns: [
      NAME_COLUMN,
      { name: 'Ready', type: 'string', description: 'Number of the pod with ready state' },
      AGE_COLUMN,
      CONTAINERS_COLUMN,
      IMAGES_COLUMN,
    ],
    row(obj) {
      const [containers, images] = containerCells(obj.spec?.template?.spec);
      return [
        obj.metadata?.name ?? '',
        `${obj.status?.readyReplicas ?? 0}/${obj.spec?.replicas ?? 0}`,
        age(obj.metadata?.creationTimestamp),
        containers,
        images,
      ];
    },
  },
};

export default statefulsets;
