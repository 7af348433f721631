// Encryption at rest for stored objects, in the style of upstream kube-apiserver's
// EncryptionConfiguration. For each configured resource the FIRST provider encrypts
// new writes; reads select the provider and key from the stored prefix
// `k8s:enc:<provider>:v1:<keyname>:` so that keys can be rotated:
//   1. add the new key second in the list on every server, restart;
//   2. move it first, restart (new writes use it, old data still decrypts);
//   3. rewrite all objects of the resource; 4. remove the old key.
//
// Stored form: `k8s:enc:aesgcm:v1:<name>:` + base64(nonce(12) || ciphertext || tag(16)).
// Upstream stores the raw bytes after the prefix; Podium base64-encodes them so the
// value is a plain ASCII string without spaces, safe in Redis and in "<rev> <json>".
// Data without the `k8s:enc:` prefix is treated as identity (plaintext), so enabling
// encryption on an existing cluster keeps old objects readable.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseEncryptionConfig, type EncryptionConfig, type ProviderConfig } from './encryption-config.js';

export { EncryptionConfigError, parseEncryptionConfig } from './encryption-config.js';
export type { EncryptionConfig, KeyConfig, ProviderConfig, ResourceConfig } from './encryption-config.js';

export const ENC_PREFIX = 'k8s:enc:';
export const DEFAULT_CONFIG_FILE = join('pki', 'encryption-config.yaml');

export class DecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecryptionError';
  }
}

const GCM_NONCE = 12;
const GCM_TAG = 16;
const CBC_IV = 16;

/** Is `stored` in an encrypted envelope (as opposed to identity/plaintext)? */
export function isEncrypted(stored: string): boolean {
  return stored.startsWith(ENC_PREFIX);
}

export class EncryptionTransformer {
  private readonly byResource = new Map<string, ProviderConfig[]>();
  private readonly wildcard: ProviderConfig[] | undefined;

  constructor(readonly config: EncryptionConfig, readonly configPath?: string) {
    let wildcard: ProviderConfig[] | undefined;
    for (const entry of config.resources) {
      for (const r of entry.resources) {
        if (r === '*.*') wildcard = entry.providers;
        else this.byResource.set(r, entry.providers);
      }
    }
    this.wildcard = wildcard;
  }

  static fromConfig(text: string, configPath?: string): EncryptionTransformer {
    return new EncryptionTransformer(parseEncryptionConfig(text), configPath);
  }

  static async fromFile(path: string): Promise<EncryptionTransformer> {
    const text = await readFile(path, 'utf8');
    try {
      return EncryptionTransformer.fromConfig(text, path);
    } catch (e) {
      (e as Error).message = `${path}: ${(e as Error).message}`;
      throw e;
    }
  }

  /**
   * Loads DATA_DIR/pki/encryption-config.yaml, creating it (mode 0600) on first use
   * with one fresh 32-byte aesgcm key for secrets, followed by identity so secrets
   * written before encryption was enabled remain readable.
   */
  static async ensureDefault(dataDir: string): Promise<EncryptionTransformer> {
    const path = join(dataDir, DEFAULT_CONFIG_FILE);
    await mkdir(join(dataDir, 'pki'), { recursive: true, mode: 0o700 });
    try {
      await writeFile(path, defaultConfigYaml(), { mode: 0o600, flag: 'wx' });
      await chmod(path, 0o600); // the umask may have narrowed/widened the create mode
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    return EncryptionTransformer.fromFile(path);
  }

  /** Providers for a resource ("secrets", "deployments.apps"); undefined = not encrypted. */
  providersFor(resource: string): ProviderConfig[] | undefined {
    const r = resource.toLowerCase();
    const exact = this.byResource.get(r);
    if (exact) return exact;
    const dot = r.indexOf('.');
    const group = dot < 0 ? '' : r.slice(dot + 1);
    // Upstream: "*." is every core-group resource, "*.<group>" every resource in a group.
    return this.byResource.get(`*.${group}`) ?? this.wildcard;
  }

  /** Does writing this resource actually encrypt (first provider is not identity)? */
  encrypts(resource: string): boolean {
    const first = this.providersFor(resource)?.[0];
    return first !== undefined && first.kind !== 'identity';
  }

  /**
   * Encrypts `plaintext` with the first provider of the resource's list. `context`
   * (e.g. the object's storage key) is bound as authenticated data for aesgcm, so a
   * value copied to another key fails to decrypt; pass the same context when reading.
   */
  transformToStorage(resource: string, plaintext: string, context?: string): string {
    const first = this.providersFor(resource)?.[0];
    if (!first || first.kind === 'identity') return plaintext;
    const key = first.keys[0]!;
    const prefix = `${ENC_PREFIX}${first.kind}:v1:${key.name}:`;
    const data = Buffer.from(plaintext, 'utf8');
    if (first.kind === 'aesgcm') {
      // Random 96-bit nonce per write. As upstream notes, a key used with random
      // nonces should be rotated before ~2^32 writes to keep the collision risk negligible.
      const nonce = randomBytes(GCM_NONCE);
      const cipher = createCipheriv(gcmAlgorithm(key.secret), key.secret, nonce, { authTagLength: GCM_TAG });
      if (context !== undefined) cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([nonce, cipher.update(data), cipher.final(), cipher.getAuthTag()]);
      return prefix + body.toString('base64');
    }
    // aescbc: unauthenticated (upstream discourages it); context is not bound.
    const iv = randomBytes(CBC_IV);
    const cipher = createCipheriv('aes-256-cbc', key.secret, iv);
    return prefix + Buffer.concat([iv, cipher.update(data), cipher.final()]).toString('base64');
  }

  /** Inverse of transformToStorage; plaintext (unprefixed) values are returned unchanged. */
  transformFromStorage(resource: string, stored: string, context?: string): string {
    if (!isEncrypted(stored)) return stored;
    const providers = this.providersFor(resource);
    // k8s:enc:<kind>:v1:<name>:<base64>
    const rest = stored.slice(ENC_PREFIX.length);
    const parts = rest.split(':');
    if (parts.length < 4 || parts[1] !== 'v1') {
      throw new DecryptionError(`${resource}: malformed encrypted value (expected ${ENC_PREFIX}<provider>:v1:<key>:<data>)`);
    }
    const [kind, , name] = parts as [string, string, string];
    const payload = rest.slice(kind.length + name.length + 5);
    if (!providers) {
      throw new DecryptionError(`${resource}: value is encrypted with ${kind} key "${name}" but no encryption providers are configured for this resource`);
    }
    const key = findKey(providers, kind, name);
    if (!key) {
      throw new DecryptionError(`${resource}: no ${kind} key named "${name}" in the encryption configuration; was it removed before all data was rewritten?`);
    }
    const body = Buffer.from(payload, 'base64');
    try {
      if (kind === 'aesgcm') {
        if (body.length < GCM_NONCE + GCM_TAG) throw new Error('ciphertext too short');
        const decipher = createDecipheriv(gcmAlgorithm(key), key, body.subarray(0, GCM_NONCE), { authTagLength: GCM_TAG });
        if (context !== undefined) decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(body.subarray(body.length - GCM_TAG));
        return Buffer.concat([decipher.update(body.subarray(GCM_NONCE, body.length - GCM_TAG)), decipher.final()]).toString('utf8');
      }
      if (body.length < CBC_IV * 2 || body.length % CBC_IV !== 0) throw new Error('ciphertext has invalid length');
      const decipher = createDecipheriv('aes-256-cbc', key, body.subarray(0, CBC_IV));
      return Buffer.concat([decipher.update(body.subarray(CBC_IV)), decipher.final()]).toString('utf8');
    } catch (e) {
      throw new DecryptionError(
        `${resource}: failed to decrypt with ${kind} key "${name}" (data tampered, wrong key or wrong context): ${(e as Error).message}`,
      );
    }
  }
}

function findKey(providers: ProviderConfig[], kind: string, name: string): Buffer | undefined {
  for (const p of providers) {
    if (p.kind !== kind || p.kind === 'identity') continue;
    const k = p.keys.find((x) => x.name === name);
    if (k) return k.secret;
  }
  return undefined;
}

function gcmAlgorithm(key: Buffer): 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' {
  return key.length === 16 ? 'aes-128-gcm' : key.length === 24 ? 'aes-192-gcm' : 'aes-256-gcm';
}

/** A fresh EncryptionConfiguration: secrets encrypted with a new aesgcm key, identity fallback. */
export function defaultConfigYaml(keyName = 'key1', secret: Buffer = randomBytes(32)): string {
  return [
    '# Podium encryption at rest (format of upstream kube-apiserver --encryption-provider-config).',
    '# The first provider encrypts new writes; the others are tried for reading.',
    '# To rotate: add a new key, move it first, rewrite all secrets, then remove the old key.',
    'apiVersion: apiserver.config.k8s.io/v1',
    'kind: EncryptionConfiguration',
    'resources:',
    '  - resources:',
    '      - secrets',
    '    providers:',
    '      - aesgcm:',
    '          keys:',
    `            - name: ${keyName}`,
    `              secret: ${secret.toString('base64')}`,
    '      - identity: {}',
    '',
  ].join('\n');
}
