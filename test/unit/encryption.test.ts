import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EncryptionTransformer, isEncrypted } from '../../server/storage/encryption.js';

const KEY1 = randomBytes(32).toString('base64');
const KEY2 = randomBytes(32).toString('base64');

type P = Record<string, unknown>;
const aesgcm = (...keys: [string, string][]): P => ({ aesgcm: { keys: keys.map(([name, secret]) => ({ name, secret })) } });
const config = (providers: P[], resources = ['secrets']): string =>
  JSON.stringify({ kind: 'EncryptionConfiguration', apiVersion: 'apiserver.config.k8s.io/v1', resources: [{ resources, providers }] });

const SECRET_VALUE = 'hunter2-super-recognizable-value';
const secretJson = JSON.stringify({
  apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' },
  data: { password: Buffer.from(SECRET_VALUE).toString('base64') }, stringData: { raw: SECRET_VALUE },
});

describe('EncryptionTransformer', () => {
  test('round trip with aesgcm; stored value is prefixed, opaque and space-free', () => {
    const t = EncryptionTransformer.fromConfig(config([aesgcm(['key1', KEY1]), { identity: {} }]));
    const stored = t.transformToStorage('secrets', secretJson);
    expect(stored.startsWith('k8s:enc:aesgcm:v1:key1:')).toBe(true);
    expect(isEncrypted(stored)).toBe(true);
    expect(stored).not.toMatch(/\s/);
    expect(stored).not.toContain(SECRET_VALUE);
    expect(stored).not.toContain(Buffer.from(SECRET_VALUE).toString('base64'));
    expect(stored).not.toContain('hunter2');
    expect(t.transformFromStorage('secrets', stored)).toBe(secretJson);
    // fresh nonce per write
    expect(t.transformToStorage('secrets', secretJson)).not.toBe(stored);
  });

  test('YAML config and aescbc provider', () => {
    const yaml = [
      'apiVersion: apiserver.config.k8s.io/v1',
      'kind: EncryptionConfiguration',
      'resources:',
      '  - resources: [secrets, configmaps]',
      '    providers:',
      '      - aescbc:',
      '          keys:',
      `            - {name: cbc1, secret: "${KEY1}"}`,
    ].join('\n');
    const t = EncryptionTransformer.fromConfig(yaml);
    const stored = t.transformToStorage('configmaps', secretJson);
    expect(stored.startsWith('k8s:enc:aescbc:v1:cbc1:')).toBe(true);
    expect(stored).not.toContain(SECRET_VALUE);
    expect(t.transformFromStorage('configmaps', stored)).toBe(secretJson);
  });

  test('resources not listed pass through unchanged', () => {
    const t = EncryptionTransformer.fromConfig(config([aesgcm(['key1', KEY1])]));
    expect(t.transformToStorage('configmaps', secretJson)).toBe(secretJson);
    expect(t.transformFromStorage('configmaps', secretJson)).toBe(secretJson);
    expect(t.encrypts('configmaps')).toBe(false);
    expect(t.encrypts('secrets')).toBe(true);
  });

  test('wildcard resources', () => {
    const t = EncryptionTransformer.fromConfig(config([aesgcm(['k', KEY1])], ['*.apps']));
    expect(t.encrypts('deployments.apps')).toBe(true);
    expect(t.encrypts('secrets')).toBe(false);
    const all = EncryptionTransformer.fromConfig(config([aesgcm(['k', KEY1])], ['*.*']));
    expect(all.encrypts('secrets')).toBe(true);
  });

  test('plaintext data written before encryption was enabled stays readable', () => {
    const t = EncryptionTransformer.fromConfig(config([aesgcm(['key1', KEY1])]));
    expect(t.transformFromStorage('secrets', secretJson)).toBe(secretJson);
  });

  test('key rotation: old key readable, new writes use the first key', () => {
    const old = EncryptionTransformer.fromConfig(config([aesgcm(['key1', KEY1])]));
    const storedOld = old.transformToStorage('secrets', secretJson);
    const rotated = EncryptionTransformer.fromConfig(config([aesgcm(['key2', KEY2], ['key1', KEY1])]));
    expect(rotated.transformFromStorage('secrets', storedOld)).toBe(secretJson);
    const rewritten = rotated.transformToStorage('secrets', rotated.transformFromStorage('secrets', storedOld));
    expect(rewritten.startsWith('k8s:enc:aesgcm:v1:key2:')).toBe(true);
    expect(rotated.transformFromStorage('secrets', rewritten)).toBe(secretJson);
    // once key1 is removed, only key2 data decrypts
    const final = EncryptionTransformer.fromConfig(config([aesgcm(['key2', KEY2])]));
    expect(final.transformFromStorage('secrets', rewritten)).toBe(secretJson);
    expect(() => final.transformFromStorage('secrets', storedOld)).toThrow(/no aesgcm key named "key1"/);
  });

  test('identity first stores plaintext but still reads encrypted data', () => {
    const enc = EncryptionTransformer.fromConfig(config([aesgcm(['key1', KEY1])]));
    const stored = enc.transformToStorage('secrets', secretJson);
    const t = EncryptionTransformer.fromConfig(config([{ identity: {} }, aesgcm(['key1', KEY1])]));
    expect(t.transformToStorage('secrets', secretJson)).toBe(secretJson);
    expect(t.transformFromStorage('secrets', stored)).toBe(secretJson);
  });

  test('tampered ciphertext, wrong key and wrong context fail clearly', () => {
    const t = EncryptionTransformer.fromConfig(config([aesgcm(['key1', KEY1])]));
    const stored = t.transformToStorage('secrets', secretJson);
    const prefix = 'k8s:enc:aesgcm:v1:key1:';
    const body = Buffer.from(stored.slice(prefix.length), 'base64');
    body[20] = body[20]! ^ 0x01;
    expect(() => t.transformFromStorage('secrets', prefix + body.toString('base64'))).toThrow(
      /secrets: failed to decrypt with aesgcm key "key1" \(data tampered/,
    );
    expect(() => t.transformFromStorage('secrets', prefix + 'AAAA')).toThrow(/failed to decrypt/);
    expect(() => t.transformFromStorage('secrets', 'k8s:enc:garbage')).toThrow(/malformed encrypted value/);
    const other = EncryptionTransformer.fromConfig(config([aesgcm(['key1', KEY2])]));
    expect(() => other.transformFromStorage('secrets', stored)).toThrow(/failed to decrypt/);
    const none = EncryptionTransformer.fromConfig(config([aesgcm(['key1', KEY1])], ['configmaps']));
    expect(() => none.transformFromStorage('secrets', stored)).toThrow(/no encryption providers are configured/);
  });

  test('context is bound as authenticated data', () => {
    const t = EncryptionTransformer.fromConfig(config([aesgcm(['key1', KEY1])]));
    const stored = t.transformToStorage('secrets', secretJson, '/registry/secrets/default/a');
    expect(t.transformFromStorage('secrets', stored, '/registry/secrets/default/a')).toBe(secretJson);
    expect(() => t.transformFromStorage('secrets', stored, '/registry/secrets/default/b')).toThrow(/wrong context/);
    expect(() => t.transformFromStorage('secrets', stored)).toThrow(/failed to decrypt/);
  });

  test('malformed configs give clear errors', () => {
    const bad = (text: string, re: RegExp): void => {
      expect(() => EncryptionTransformer.fromConfig(text)).toThrow(re);
    };
    bad(config([aesgcm(['key1', 'not*base64!'])]), /keys\[0\]\.secret \(key "key1"\) is not valid base64/);
    bad(config([aesgcm(['key1', randomBytes(10).toString('base64')])]), /decodes to 10 bytes; aesgcm requires 16, 24, 32 bytes/);
    bad(config([{ aescbc: { keys: [{ name: 'k', secret: randomBytes(16).toString('base64') }] } }]), /aescbc requires 32 bytes/);
    bad(config([{ rot13: {} }]), /unknown provider "rot13" \(supported: aesgcm, aescbc, identity\)/);
    bad(config([{ secretbox: { keys: [] } }]), /provider "secretbox" is not supported by Podium/);
    bad(config([{ aesgcm: {}, identity: {} }]), /exactly one provider/);
    bad(config([aesgcm(['a', KEY1], ['a', KEY2])]), /"a" is duplicated/);
    bad(config([aesgcm(['a:b', KEY1])]), /must not contain ':'/);
    bad(config([{ aesgcm: { keys: [] } }]), /keys must be a non-empty list/);
    bad(config([]), /providers must be a non-empty list/);
    bad(config([aesgcm(['k', KEY1])], []), /resources\[0\]\.resources must be a non-empty list/);
    bad(config([aesgcm(['k', KEY1])]).replace('EncryptionConfiguration', 'Foo'), /kind must be "EncryptionConfiguration"/);
    bad(config([aesgcm(['k', KEY1])]).replace('/v1', '/v2'), /apiVersion must be "apiserver.config.k8s.io\/v1"/);
    bad('{ not: [valid', /invalid EncryptionConfiguration: not valid YAML\/JSON/);
    bad(
      JSON.stringify({
        kind: 'EncryptionConfiguration', apiVersion: 'apiserver.config.k8s.io/v1',
        resources: [{ resources: ['secrets'], providers: [{ identity: {} }] }, { resources: ['Secrets'], providers: [{ identity: {} }] }],
      }),
      /resource "secrets" is listed more than once/,
    );
  });

  describe('ensureDefault', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'podium-enc-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    test('creates the config with mode 0600 on first use and reuses it', async () => {
      const t1 = await EncryptionTransformer.ensureDefault(dir);
      const path = join(dir, 'pki', 'encryption-config.yaml');
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const text = readFileSync(path, 'utf8');
      expect(text).toContain('kind: EncryptionConfiguration');
      expect(t1.encrypts('secrets')).toBe(true);
      const stored = t1.transformToStorage('secrets', secretJson);
      expect(stored.startsWith('k8s:enc:aesgcm:v1:key1:')).toBe(true);

      const t2 = await EncryptionTransformer.ensureDefault(dir);
      expect(readFileSync(path, 'utf8')).toBe(text);
      expect(t2.transformFromStorage('secrets', stored)).toBe(secretJson);
      // identity fallback for pre-existing plaintext secrets
      expect(t2.transformFromStorage('secrets', secretJson)).toBe(secretJson);
    });

    test('a fresh data dir gets a different key', async () => {
      const t1 = await EncryptionTransformer.ensureDefault(dir);
      const other = mkdtempSync(join(tmpdir(), 'podium-enc-'));
      try {
        const t2 = await EncryptionTransformer.ensureDefault(other);
        expect(() => t2.transformFromStorage('secrets', t1.transformToStorage('secrets', secretJson))).toThrow(/failed to decrypt/);
      } finally {
        rmSync(other, { recursive: true, force: true });
      }
    });
  });
});
