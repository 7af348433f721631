// Parsing and validation of an EncryptionConfiguration (apiserver.config.k8s.io/v1),
// the file upstream kube-apiserver takes via --encryption-provider-config.
//
// Supported providers: aesgcm, aescbc, identity. secretbox and kms are recognised
// (so the error is specific) but rejected as unsupported.
import { parse as parseYaml } from 'yaml';

export type ProviderKind = 'aesgcm' | 'aescbc' | 'identity';

export interface KeyConfig {
  name: string;
  /** Raw key bytes decoded from the base64 `secret`. */
  secret: Buffer;
}

export type ProviderConfig =
  | { kind: 'identity' }
  | { kind: 'aesgcm' | 'aescbc'; keys: KeyConfig[] };

export interface ResourceConfig {
  /** Resource names as written, e.g. "secrets", "configmaps", "deployments.apps", "*.*". */
  resources: string[];
  /** Ordered; the first provider encrypts new writes. */
  providers: ProviderConfig[];
}

export interface EncryptionConfig {
  resources: ResourceConfig[];
}

export class EncryptionConfigError extends Error {
  constructor(message: string) {
    super(`invalid EncryptionConfiguration: ${message}`);
    this.name = 'EncryptionConfigError';
  }
}

const API_VERSION = 'apiserver.config.k8s.io/v1';
const KIND = 'EncryptionConfiguration';
const UNSUPPORTED = new Set(['secretbox', 'kms']);
const KNOWN = ['aesgcm', 'aescbc', 'identity'];
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(message: string): never {
  throw new EncryptionConfigError(message);
}

/** Parses YAML or JSON text (JSON is a subset of YAML) and validates it. */
export function parseEncryptionConfig(text: string): EncryptionConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    fail(`not valid YAML/JSON: ${(e as Error).message}`);
  }
  return validateEncryptionConfig(doc);
}

export function validateEncryptionConfig(doc: unknown): EncryptionConfig {
  if (!isObject(doc)) fail('document must be an object');
  if (doc.kind !== KIND) fail(`kind must be "${KIND}", got ${JSON.stringify(doc.kind ?? null)}`);
  if (doc.apiVersion !== API_VERSION) {
    fail(`apiVersion must be "${API_VERSION}", got ${JSON.stringify(doc.apiVersion ?? null)}`);
  }
  if (!Array.isArray(doc.resources) || doc.resources.length === 0) {
    fail('resources must be a non-empty list');
  }
  const seen = new Set<string>();
  const resources = doc.resources.map((entry, i) => {
    const path = `resources[${i}]`;
    if (!isObject(entry)) fail(`${path} must be an object`);
    if (!Array.isArray(entry.resources) || entry.resources.length === 0) {
      fail(`${path}.resources must be a non-empty list of resource names`);
    }
    const names = entry.resources.map((r, j) => {
      if (typeof r !== 'string' || r.trim() === '') fail(`${path}.resources[${j}] must be a non-empty string`);
      const name = r.trim().toLowerCase();
      if (seen.has(name)) fail(`${path}.resources[${j}]: resource "${name}" is listed more than once`);
      seen.add(name);
      return name;
    });
    if (!Array.isArray(entry.providers) || entry.providers.length === 0) {
      fail(`${path}.providers must be a non-empty list`);
    }
    const providers = entry.providers.map((p, j) => parseProvider(p, `${path}.providers[${j}]`));
    return { resources: names, providers };
  });
  return { resources };
}

function parseProvider(p: unknown, path: string): ProviderConfig {
  if (!isObject(p)) fail(`${path} must be an object with exactly one provider key`);
  const kinds = Object.keys(p);
  if (kinds.length !== 1) {
    fail(`${path} must have exactly one provider (one of ${KNOWN.join(', ')}), got ${kinds.length ? kinds.join(', ') : 'none'}`);
  }
  const kind = kinds[0]!;
  const body = p[kind];
  if (UNSUPPORTED.has(kind)) fail(`${path}: provider "${kind}" is not supported by Podium (supported: ${KNOWN.join(', ')})`);
  if (kind === 'identity') {
    if (body !== null && body !== undefined && !isObject(body)) fail(`${path}.identity must be an empty object`);
    return { kind: 'identity' };
  }
  if (kind !== 'aesgcm' && kind !== 'aescbc') {
    fail(`${path}: unknown provider "${kind}" (supported: ${KNOWN.join(', ')})`);
  }
  if (!isObject(body)) fail(`${path}.${kind} must be an object with a keys list`);
  if (!Array.isArray(body.keys) || body.keys.length === 0) fail(`${path}.${kind}.keys must be a non-empty list`);
  const names = new Set<string>();
  const keys = body.keys.map((k, i) => {
    const kp = `${path}.${kind}.keys[${i}]`;
    if (!isObject(k)) fail(`${kp} must be an object with name and secret`);
    if (typeof k.name !== 'string' || k.name === '') fail(`${kp}.name must be a non-empty string`);
    // The name is embedded in the stored prefix k8s:enc:<kind>:v1:<name>: so a colon would make it ambiguous.
    if (k.name.includes(':')) fail(`${kp}.name "${k.name}" must not contain ':'`);
    if (names.has(k.name)) fail(`${kp}.name "${k.name}" is duplicated`);
    names.add(k.name);
    if (typeof k.secret !== 'string' || k.secret === '') fail(`${kp}.secret must be a non-empty base64 string`);
    const s = k.secret.trim();
    if (s.length % 4 !== 0 || !BASE64.test(s)) fail(`${kp}.secret (key "${k.name}") is not valid base64`);
    const secret = Buffer.from(s, 'base64');
    const allowed = kind === 'aesgcm' ? [16, 24, 32] : [32];
    if (!allowed.includes(secret.length)) {
      fail(`${kp}.secret (key "${k.name}") decodes to ${secret.length} bytes; ${kind} requires ${allowed.join(', ')} bytes`);
    }
    return { name: k.name, secret };
  });
  return { kind, keys };
}
