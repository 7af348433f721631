// Service account tokens as upstream's TokenRequest issues them (bound, projected tokens):
// ES256 (or RS256 for an RSA key) JWTs signed with the service-account key, carrying the
// `kubernetes.io` private claims, and the authenticator that turns one back into a user
// after checking the service account (and the pod, secret or node it is bound to) still exists.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import type { BoundObjectReference, TokenRequest } from 'kubernetes-types/authentication/v1.js';
import { StatusError, badRequest, conflict, type FieldError } from '../../../apimachinery/errors.js';
import { fieldErrors } from '../../../apimachinery/validation.js';
import { GROUP_AUTHENTICATED, GROUP_SERVICE_ACCOUNTS, SERVICE_ACCOUNT_USER_PREFIX, type UserInfo } from '../types.js';

export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
export const DEFAULT_EXPIRATION_SECONDS = 3600;
const MIN_EXPIRATION_SECONDS = 10 * 60;
const MAX_EXPIRATION_SECONDS = 2 ** 32;
/** go-jose's jwt.DefaultLeeway, which upstream uses for exp/nbf and for deletion timestamps. */
const LEEWAY_SECONDS = 60;
/** How long a signature check is reused for the same token string. */
const VERIFIED_CACHE_MS = 10_000;
const VERIFIED_CACHE_MAX = 10_000;

// The user.Info extra keys upstream's ServiceAccountInfo.UserInfo sets.
export const EXTRA_POD_NAME = 'authentication.kubernetes.io/pod-name';
export const EXTRA_POD_UID = 'authentication.kubernetes.io/pod-uid';
export const EXTRA_NODE_NAME = 'authentication.kubernetes.io/node-name';
export const EXTRA_NODE_UID = 'authentication.kubernetes.io/node-uid';
export const EXTRA_CREDENTIAL_ID = 'authentication.kubernetes.io/credential-id';

export interface ServiceAccountKey {
  privateKeyPem: string;
  publicKeyPem: string;
  /** True when this call created the key files. */
  generated?: boolean;
}

/**
 * Loads `sa.key`/`sa.pub` from pkiDir, creating an ECDSA P-256 pair when the private key is
 * missing (and the public half when only it is missing), like kubeadm's sa.key/sa.pub.
 */
export function ensureServiceAccountKey(pkiDir: string): ServiceAccountKey {
  const keyPath = join(pkiDir, 'sa.key');
  const pubPath = join(pkiDir, 'sa.pub');
  mkdirSync(pkiDir, { recursive: true });
  let generated = false;
  let privateKeyPem: string;
  if (existsSync(keyPath)) {
    privateKeyPem = readFileSync(keyPath, 'utf8');
  } else {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    writeFileSync(keyPath, privateKeyPem, { mode: 0o600 });
    generated = true;
  }
  let publicKeyPem: string;
  if (existsSync(pubPath) && !generated) {
    publicKeyPem = readFileSync(pubPath, 'utf8');
  } else {
    publicKeyPem = createPublicKey(createPrivateKey(privateKeyPem)).export({ type: 'spki', format: 'pem' }).toString();
    writeFileSync(pubPath, publicKeyPem, { mode: 0o644 });
  }
  return { privateKeyPem, publicKeyPem, generated };
}

/** upstream's keyIDFromPublicKey: unpadded base64url of the SHA-256 of the PKIX (SPKI) DER. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64url');
}

export interface ObjectRef { name: string; uid: string }
export interface BoundObject extends ObjectRef { kind: 'Pod' | 'Secret' | 'Node' }

export interface IssueOptions {
  audiences?: string[];
  expirationSeconds?: number;
  boundObject?: BoundObject;
  /** For a pod-bound token, the node the pod runs on (upstream's ServiceAccountTokenPodNodeInfo). */
  podNode?: ObjectRef;
  now?: Date;
}

export interface IssuedToken {
  token: string;
  /** RFC 3339, whole seconds, as metav1.Time serialises. */
  expirationTimestamp: string;
}

/** What the authenticator needs to know about an object a token names (from the watch caches). */
export interface LiveObject { uid?: string; deletionTimestamp?: string }

export interface ServiceAccountLookup {
  serviceAccount(namespace: string, name: string): LiveObject | undefined;
  pod(namespace: string, name: string): LiveObject | undefined;
  secret(namespace: string, name: string): LiveObject | undefined;
  /** Nodes are checked only for tokens bound directly to a node, and only when this is provided. */
  node?(name: string): LiveObject | undefined;
}

/** The `kubernetes.io` private claim (upstream's privateClaims). */
interface KubernetesClaims {
  namespace?: string;
  serviceaccount?: Partial<ObjectRef>;
  pod?: Partial<ObjectRef>;
  secret?: Partial<ObjectRef>;
  node?: Partial<ObjectRef>;
}

export interface ServiceAccountTokensOptions {
  issuer?: string;
  /** The audiences the API server itself accepts (--api-audiences); default [issuer]. */
  apiAudiences?: string[];
}

export function serviceAccountUsername(namespace: string, name: string): string {
  return `${SERVICE_ACCOUNT_USER_PREFIX}${namespace}:${name}`;
}

/** upstream's serviceaccount.MakeGroupNames. */
export function serviceAccountGroups(namespace: string): string[] {
  return [GROUP_SERVICE_ACCOUNTS, `${GROUP_SERVICE_ACCOUNTS}:${namespace}`];
}

/** metav1.Time's JSON form: RFC 3339 in UTC, no fractional seconds. */
function rfc3339(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function audiencesOf(aud: JWTPayload['aud']): string[] {
  if (aud === undefined) return [];
  return Array.isArray(aud) ? aud : [aud];
}

export class ServiceAccountTokens {
  readonly issuer: string;
  readonly apiAudiences: string[];
  readonly keyId: string;
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  private readonly alg: 'ES256' | 'RS256';
  private readonly verified = new Map<string, { payload: JWTPayload; until: number }>();

  constructor(key: ServiceAccountKey, opts: ServiceAccountTokensOptions = {}) {
    this.privateKey = createPrivateKey(key.privateKeyPem);
    this.publicKey = createPublicKey(key.publicKeyPem);
    const type = this.privateKey.asymmetricKeyType;
    if (type === 'ec' && this.privateKey.asymmetricKeyDetails?.namedCurve === 'prime256v1') this.alg = 'ES256';
    else if (type === 'rsa') this.alg = 'RS256';
    else throw new Error(`unsupported service account signing key type ${type ?? 'unknown'}: want ECDSA P-256 or RSA`);
    this.keyId = keyIdOf(this.publicKey);
    this.issuer = opts.issuer ?? DEFAULT_ISSUER;
    this.apiAudiences = opts.apiAudiences && opts.apiAudiences.length > 0 ? [...opts.apiAudiences] : [this.issuer];
  }

  /** Signs a token for the service account (upstream's serviceaccount.Claims + GenerateToken). */
  async issue(sa: { namespace: string; name: string; uid: string }, opts: IssueOptions = {}): Promise<IssuedToken> {
    const now = Math.floor((opts.now ?? new Date()).getTime() / 1000);
    const exp = now + (opts.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS);
    const audiences = opts.audiences && opts.audiences.length > 0 ? opts.audiences : this.apiAudiences;
    const k8s: KubernetesClaims = { namespace: sa.namespace, serviceaccount: { name: sa.name, uid: sa.uid } };
    const bound = opts.boundObject;
    if (bound?.kind === 'Pod') {
      k8s.pod = { name: bound.name, uid: bound.uid };
      if (opts.podNode) k8s.node = { name: opts.podNode.name, uid: opts.podNode.uid };
    } else if (bound?.kind === 'Secret') {
      k8s.secret = { name: bound.name, uid: bound.uid };
    } else if (bound?.kind === 'Node') {
      k8s.node = { name: bound.name, uid: bound.uid };
    }
    // Keys in the order go-jose's merged claims serialise (sorted).
    const payload: JWTPayload = {
      aud: [...audiences],
      exp,
      iat: now,
      iss: this.issuer,
      jti: randomUUID(),
      'kubernetes.io': k8s,
      nbf: now,
      sub: serviceAccountUsername(sa.namespace, sa.name),
    };
    const token = await new SignJWT(payload).setProtectedHeader({ alg: this.alg, kid: this.keyId }).sign(this.privateKey);
    return { token, expirationTimestamp: rfc3339(exp) };
  }

  /**
   * The service account a token authenticates as, or undefined when it does not: not a JWT, not
   * from this issuer, bad signature, expired or not yet valid, no audience in common, or naming
   * objects that no longer exist. Never throws for a bad token, so other authenticators may try.
   */
  async verify(token: string, lookup: ServiceAccountLookup, audiences?: string[], now: Date = new Date()): Promise<{ user: UserInfo; audiences: string[] } | undefined> {
    const payload = await this.verifiedPayload(token, now);
    if (!payload) return undefined;
    const nowSeconds = now.getTime() / 1000;
    if (typeof payload.exp === 'number' && nowSeconds > payload.exp + LEEWAY_SECONDS) return undefined;
    if (typeof payload.nbf === 'number' && nowSeconds < payload.nbf - LEEWAY_SECONDS) return undefined;

    const wanted = audiences && audiences.length > 0 ? audiences : this.apiAudiences;
    const tokenAudiences = audiencesOf(payload.aud);
    const common = wanted.filter((a) => tokenAudiences.includes(a));
    if (common.length === 0) return undefined;

    const k8s = payload['kubernetes.io'] as KubernetesClaims | undefined;
    const namespace = k8s?.namespace;
    const saName = k8s?.serviceaccount?.name;
    const saUid = k8s?.serviceaccount?.uid;
    if (!namespace || !saName || !saUid) return undefined;

    // upstream treats objects deleted before now-leeway as gone: a pod in its grace period
    // keeps a working token until its deletionTimestamp has passed (plus the leeway).
    const live = (obj: LiveObject | undefined, uid: string | undefined): boolean => {
      if (!obj) return false;
      if (obj.deletionTimestamp && Date.parse(obj.deletionTimestamp) < now.getTime() - LEEWAY_SECONDS * 1000) return false;
      return obj.uid === uid;
    };
    if (!live(lookup.serviceAccount(namespace, saName), saUid)) return undefined;
    if (k8s?.secret && !live(lookup.secret(namespace, k8s.secret.name ?? ''), k8s.secret.uid)) return undefined;
    if (k8s?.pod && !live(lookup.pod(namespace, k8s.pod.name ?? ''), k8s.pod.uid)) return undefined;
    if (k8s?.node && !k8s.pod && lookup.node && !live(lookup.node(k8s.node.name ?? ''), k8s.node.uid)) return undefined;

    const user: UserInfo = {
      name: serviceAccountUsername(namespace, saName),
      uid: saUid,
      groups: [...serviceAccountGroups(namespace), GROUP_AUTHENTICATED],
    };
    const extra: Record<string, string[]> = {};
    if (k8s?.pod?.name && k8s.pod.uid) {
      extra[EXTRA_POD_NAME] = [k8s.pod.name];
      extra[EXTRA_POD_UID] = [k8s.pod.uid];
    }
    if (typeof payload.jti === 'string' && payload.jti) extra[EXTRA_CREDENTIAL_ID] = [`JTI=${payload.jti}`];
    if (k8s?.node?.name) {
      extra[EXTRA_NODE_NAME] = [k8s.node.name];
      if (k8s.node.uid) extra[EXTRA_NODE_UID] = [k8s.node.uid];
    }
    if (Object.keys(extra).length > 0) user.extra = extra;
    return { user, audiences: common };
  }

  /** The signature-checked claims of a token from this issuer, reusing a recent check of the same string. */
  private async verifiedPayload(token: string, now: Date): Promise<JWTPayload | undefined> {
    const cached = this.verified.get(token);
    if (cached && cached.until > now.getTime()) return cached.payload;
    let claims: JWTPayload;
    try {
      claims = decodeJwt(token);
    } catch {
      return undefined;
    }
    // Another issuer's token is not ours to judge (upstream's hasCorrectIssuer).
    if (claims.iss !== this.issuer) return undefined;
    let payload: JWTPayload;
    try {
      // Times are checked by the caller on every use, cached or not.
      ({ payload } = await jwtVerify(token, this.publicKey, { algorithms: [this.alg], issuer: this.issuer, currentDate: now, clockTolerance: LEEWAY_SECONDS }));
    } catch {
      return undefined;
    }
    if (this.verified.size >= VERIFIED_CACHE_MAX) this.verified.clear();
    const expMs = typeof payload.exp === 'number' ? payload.exp * 1000 : Infinity;
    this.verified.set(token, { payload, until: Math.min(now.getTime() + VERIFIED_CACHE_MS, expMs) });
    return payload;
  }
}

/** upstream's ValidateTokenRequest (after SetDefaults_TokenRequestSpec's 3600-second default). */
export function validateTokenRequest(tr: TokenRequest): FieldError[] {
  const out: FieldError[] = [];
  const seconds = tr.spec?.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
  if (seconds < MIN_EXPIRATION_SECONDS) {
    out.push(fieldErrors.invalid('spec.expirationSeconds', seconds, 'may not specify a duration less than 10 minutes'));
  }
  if (seconds > MAX_EXPIRATION_SECONDS) {
    out.push(fieldErrors.invalid('spec.expirationSeconds', seconds, 'may not specify a duration larger than 2^32 seconds'));
  }
  return out;
}

/** Go's schema.FromAPIVersionAndKind(...).String(): "/v1, Kind=Pod", "apps/v1, Kind=Deployment". */
function gvkString(apiVersion: string, kind: string): string {
  const slash = apiVersion.indexOf('/');
  const [group, version] = slash >= 0 ? [apiVersion.slice(0, slash), apiVersion.slice(slash + 1)] : ['', apiVersion];
  return `${group}/${version}, Kind=${kind}`;
}

/**
 * The kind a TokenRequest's boundObjectRef names, or upstream's 400 for kinds a token cannot be
 * bound to (the TokenREST create checks this, not validation, so it is a BadRequest, not a 422).
 */
export function boundObjectKind(ref: BoundObjectReference): 'Pod' | 'Secret' | 'Node' | StatusError {
  const apiVersion = ref.apiVersion ?? '';
  const kind = ref.kind ?? '';
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  if (group === '' && (kind === 'Pod' || kind === 'Secret' || kind === 'Node')) return kind;
  return badRequest(`cannot bind token to object of type ${gvkString(apiVersion, kind)}`);
}

/** upstream's 409 when boundObjectRef.uid is set and differs from the live object's. */
export function boundObjectUidConflict(kind: string, name: string, refUid: string): StatusError {
  return conflict({ group: '', resource: kind }, name, `the UID in the bound object reference (${refUid}) does not match the UID in record. The object might have been deleted and then recreated`);
}
