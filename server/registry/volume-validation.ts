// Pod volume validation, as upstream's ValidateVolumes/validateVolumeSource for the sources a
// cluster like this one serves; the rarer in-tree cloud sources are only counted.
import type { KeyToPath, Volume } from 'kubernetes-types/core/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors } from '../../apimachinery/validation.js';
import { child, labelErrors } from './core-helpers.js';
import { localDescendingPathErrors } from './container-validation.js';

/** The order upstream checks sources in, which decides which one "may not specify more than 1 volume type" names. */
const SOURCE_ORDER = [
  'emptyDir', 'hostPath', 'gitRepo', 'gcePersistentDisk', 'awsElasticBlockStore', 'secret', 'nfs', 'iscsi', 'glusterfs', 'flocker',
  'persistentVolumeClaim', 'rbd', 'cinder', 'cephfs', 'quobyte', 'downwardAPI', 'fc', 'flexVolume', 'configMap', 'azureFile',
  'vsphereVolume', 'photonPersistentDisk', 'portworxVolume', 'azureDisk', 'storageos', 'projected', 'scaleIO', 'csi', 'ephemeral', 'image',
];

const FILE_MODE_ERROR = 'must be a number between 0 and 0777 (octal), both inclusive';
const HOST_PATH_TYPES = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];

function modeErrors(mode: number | undefined, path: string): FieldError[] {
  return mode !== undefined && (mode < 0 || mode > 0o777) ? [fieldErrors.invalid(path, mode, FILE_MODE_ERROR)] : [];
}

/** ValidateLocalNonReservedPath. */
function nonReservedPathErrors(target: string, path: string): FieldError[] {
  const errs = localDescendingPathErrors(target, path);
  if (target.startsWith('..') && !target.startsWith('../')) errs.push(fieldErrors.invalid(path, target, "must not start with '..'"));
  return errs;
}

function itemsErrors(items: KeyToPath[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  (items ?? []).forEach((kp, i) => {
    const p = `${path}[${i}]`;
    if (!kp.key) errs.push(fieldErrors.required(child(p, 'key')));
    if (!kp.path) errs.push(fieldErrors.required(child(p, 'path')));
    errs.push(...nonReservedPathErrors(kp.path ?? '', child(p, 'path')), ...modeErrors(kp.mode, child(p, 'mode')));
  });
  return errs;
}

function downwardItemsErrors(items: { path: string; mode?: number; fieldRef?: { fieldPath: string }; resourceFieldRef?: { resource: string } }[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  (items ?? []).forEach((item, i) => {
    const p = `${path}[${i}]`;
    if (!item.path) errs.push(fieldErrors.required(child(p, 'path')));
    errs.push(...nonReservedPathErrors(item.path ?? '', child(p, 'path')), ...modeErrors(item.mode, child(p, 'mode')));
    if (item.fieldRef && item.resourceFieldRef) errs.push(fieldErrors.invalid(p, 'resource', 'fieldRef and resourceFieldRef can not be specified simultaneously'));
    else if (!item.fieldRef && !item.resourceFieldRef) errs.push(fieldErrors.required(p, 'one of fieldRef and resourceFieldRef is required'));
  });
  return errs;
}

function projectedErrors(v: NonNullable<Volume['projected']>, path: string): FieldError[] {
  const errs = modeErrors(v.defaultMode, child(path, 'defaultMode'));
  (v.sources ?? []).forEach((s, i) => {
    const p = `${child(path, 'sources')}[${i}]`;
    const kinds = ['secret', 'downwardAPI', 'configMap', 'serviceAccountToken', 'clusterTrustBundle'].filter((k) => (s as Record<string, unknown>)[k] != null);
    if (kinds.length > 1) errs.push(fieldErrors.forbidden(child(p, kinds[1]), 'may not specify more than 1 volume type per source'));
    if (s.secret) errs.push(...itemsErrors(s.secret.items, child(child(p, 'secret'), 'items')));
    if (s.configMap) errs.push(...itemsErrors(s.configMap.items, child(child(p, 'configMap'), 'items')));
    if (s.downwardAPI) errs.push(...downwardItemsErrors(s.downwardAPI.items, child(child(p, 'downwardAPI'), 'items')));
    const sat = s.serviceAccountToken;
    if (sat) {
      const sp = child(p, 'serviceAccountToken');
      const exp = sat.expirationSeconds ?? 3600;
      if (exp < 600) errs.push(fieldErrors.invalid(child(sp, 'expirationSeconds'), exp, 'may not specify a duration less than 10 minutes'));
      if (exp > 2 ** 32) errs.push(fieldErrors.invalid(child(sp, 'expirationSeconds'), exp, 'may not specify a duration larger than 2^32 seconds'));
      if (!sat.path) errs.push(fieldErrors.required(child(sp, 'path')));
      else errs.push(...nonReservedPathErrors(sat.path, child(sp, 'path')));
    }
  });
  return errs;
}

function sourceErrors(v: Volume, key: string, path: string): FieldError[] {
  const p = child(path, key);
  switch (key) {
    case 'emptyDir': {
      const limit = v.emptyDir?.sizeLimit;
      return typeof limit === 'string' && limit.startsWith('-') ? [fieldErrors.forbidden(child(p, 'sizeLimit'), 'SizeLimit field must be a valid resource quantity')] : [];
    }
    case 'hostPath': {
      const hp = v.hostPath!;
      const errs: FieldError[] = [];
      if (!hp.path) errs.push(fieldErrors.required(child(p, 'path')));
      else if (hp.path.split('/').includes('..')) errs.push(fieldErrors.invalid(child(p, 'path'), hp.path, "must not contain '..'"));
      if (hp.type !== undefined && !HOST_PATH_TYPES.includes(hp.type)) errs.push(fieldErrors.notSupported(child(p, 'type'), hp.type, HOST_PATH_TYPES));
      return errs;
    }
    case 'gitRepo':
      return v.gitRepo!.repository ? [] : [fieldErrors.required(child(p, 'repository'))];
    case 'secret': {
      const errs = v.secret!.secretName ? [] : [fieldErrors.required(child(p, 'secretName'))];
      return [...errs, ...modeErrors(v.secret!.defaultMode, child(p, 'defaultMode')), ...itemsErrors(v.secret!.items, child(p, 'items'))];
    }
    case 'configMap': {
      const errs = v.configMap!.name ? [] : [fieldErrors.required(child(p, 'name'))];
      return [...errs, ...modeErrors(v.configMap!.defaultMode, child(p, 'defaultMode')), ...itemsErrors(v.configMap!.items, child(p, 'items'))];
    }
    case 'nfs': {
      const errs: FieldError[] = [];
      if (!v.nfs!.server) errs.push(fieldErrors.required(child(p, 'server')));
      if (!v.nfs!.path) errs.push(fieldErrors.required(child(p, 'path')));
      else if (!v.nfs!.path.startsWith('/')) errs.push(fieldErrors.invalid(child(p, 'path'), v.nfs!.path, 'must be an absolute path'));
      return errs;
    }
    case 'persistentVolumeClaim':
      return v.persistentVolumeClaim!.claimName ? [] : [fieldErrors.required(child(p, 'claimName'))];
    case 'downwardAPI':
      return [...modeErrors(v.downwardAPI!.defaultMode, child(p, 'defaultMode')), ...downwardItemsErrors(v.downwardAPI!.items, child(p, 'items'))];
    case 'projected':
      return projectedErrors(v.projected!, p);
    case 'csi':
      return v.csi!.driver ? [] : [fieldErrors.required(child(p, 'driver'))];
    case 'ephemeral':
      return v.ephemeral!.volumeClaimTemplate ? [] : [fieldErrors.required(child(p, 'volumeClaimTemplate'))];
    default:
      return [];
  }
}

/** ValidateVolumes: the names of the volumes that are valid (mounts may only name those), and the errors. */
export function validateVolumes(volumes: Volume[] | undefined, path: string, podName?: string): { names: Set<string>; errors: FieldError[] } {
  const names = new Set<string>();
  const errors: FieldError[] = [];
  const createdClaims = new Set<string>();
  if (podName) for (const v of volumes ?? []) if (v.ephemeral) createdClaims.add(`${podName}-${v.name}`);
  (volumes ?? []).forEach((v, i) => {
    const p = `${path}[${i}]`;
    const errs: FieldError[] = [];
    let count = 0;
    for (const key of SOURCE_ORDER) {
      if ((v as unknown as Record<string, unknown>)[key] == null) continue;
      if (count > 0) { errs.push(fieldErrors.forbidden(child(p, key), 'may not specify more than 1 volume type')); continue; }
      count++;
      errs.push(...sourceErrors(v, key, p));
    }
    if (count === 0) errs.push(fieldErrors.required(p, 'must specify a volume type'));
    const namePath = child(p, 'name');
    if (!v.name) errs.push(fieldErrors.required(namePath));
    else errs.push(...labelErrors(v.name, namePath));
    if (names.has(v.name)) errs.push(fieldErrors.duplicate(namePath, v.name));
    if (errs.length === 0) names.add(v.name);
    else errors.push(...errs);
    const claim = v.persistentVolumeClaim?.claimName;
    if (claim && createdClaims.has(claim)) {
      errors.push(fieldErrors.invalid(child(child(p, 'persistentVolumeClaim'), 'claimName'), claim, 'must not reference a PVC that gets created for an ephemeral volume'));
    }
  });
  return { names, errors };
}
