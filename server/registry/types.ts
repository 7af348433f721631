// The one declarative table the API server is built from: each served resource is a
// ResourceDefinition (names, scope, verbs, subresources, field selectors, printer columns)
// plus a strategy with the hooks the generic store calls. Discovery, routing, OpenAPI paths
// and `kubectl api-resources` all derive from these.
import type { ObjectMeta, DeleteOptions } from 'kubernetes-types/meta/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import type { Mutable } from '../../apimachinery/mutable.js';
import type { AuthServices, UserInfo } from '../auth/types.js';
export type { Mutable };

/** Any API object as stored: apiVersion/kind/metadata plus whatever the kind carries. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: Mutable<ObjectMeta>;
  [field: string]: unknown;
}

export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string;           // "name" for the first column, as upstream
  description: string;
  priority?: number;         // 1: shown only with -o wide
}

export interface ScaleSubresource {
  /** Reads `spec.replicas`, `status.replicas` and the selector string of the Scale status. */
  specReplicas(obj: KubeObject): number;
  statusReplicas(obj: KubeObject): number;
  selector(obj: KubeObject): string;
  setSpecReplicas(obj: KubeObject, replicas: number): void;
}

export interface ResourceStrategy<T extends KubeObject> {
  /** upstream's SetDefaults_*: runs on create and update, before validation. */
  defaults?(obj: T): void;
  /** Clears what users may not set on create (e.g. status), sets generation, … */
  prepareForCreate?(obj: T): void;
  /** Runs on update of the main resource, after the generic rules (status kept, generation bumped on spec change). */
  prepareForUpdate?(obj: T, old: T): void;
  /** Kind-specific validation; metadata (name, namespace, labels, annotations) is validated by the generic store. */
  validate(obj: T): FieldError[];
  /** Immutability and transition rules; runs after validate on update. */
  validateUpdate?(obj: T, old: T): FieldError[];
  /**
   * Runs on a status write after the generic reset (everything but status from the stored
   * object); kinds whose upstream status strategy lets more through (Deployment: annotations,
   * which the controller's revision bookkeeping writes) copy it from `next` here.
   */
  prepareForStatusUpdate?(obj: T, next: T, old: T): void;
  /** Validation of a status write (status subresource). */
  validateStatusUpdate?(obj: T, old: T): FieldError[];
  /**
   * An `approval` write (CertificateSigningRequest): runs on a copy of the stored object and
   * takes from `next` what the approval may change (the conditions).
   */
  prepareForApprovalUpdate?(obj: T, next: T, old: T): void;
  validateApprovalUpdate?(obj: T, old: T): FieldError[];
  /**
   * upstream's RESTGracefulDeleteStrategy: the grace period this delete should wait before the
   * object is removed (e.g. pods bound to a node), or 0 to delete at once. Undefined: no grace.
   */
  gracePeriodSeconds?(obj: T, options: DeleteOptions): number;
}

/** Converts between a served version and the version the object is stored as (same storage for both). */
export interface StorageConversion<T extends KubeObject> {
  /** The storage type key shared by all versions, e.g. "autoscaling/horizontalpodautoscalers". */
  storageKey: string;
  toStorage(obj: T): KubeObject;
  fromStorage(obj: KubeObject): T;
}

export interface ResourceDefinition<T extends KubeObject = KubeObject> {
  group: string;             // "" for core
  version: string;
  kind: string;
  listKind?: string;         // default `${kind}List`
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];     // "all" makes `kubectl get all` include it
  /** Verbs served on the main resource; default: every verb. */
  verbs?: Verb[];
  /** Rule for metadata.name: a DNS-1123 subdomain unless the kind says otherwise (services: DNS-1035 label). */
  nameValidator?: (name: string) => string[];
  /** metadata.generation is maintained (set to 1 on create, bumped on spec change). */
  generation?: boolean;
  /** approval: CertificateSigningRequest's, written by approvers (see the strategy's approval hooks). */
  subresources?: { status?: true; scale?: ScaleSubresource; approval?: true };
  /**
   * Loads what this resource's validation needs, before its first write (the CSR parser's
   * X.509 library, which a server that never sees a CSR should not hold in memory).
   */
  loadForWrites?: () => Promise<void>;
  /** Field selectors beyond metadata.name and metadata.namespace, as upstream's GetAttrs. */
  fieldSelectors?: Record<string, (obj: T) => string | undefined>;
  strategy: ResourceStrategy<T>;
  table: { columns: TableColumn[]; row(obj: T): unknown[] };
  /** Present only where another version shares this resource's storage. */
  conversion?: StorageConversion<T>;
  /**
   * Create-only kinds computed per request and never stored (TokenReview, SelfSubjectReview,
   * the access and rules reviews): a create answers 201 with what this returns.
   */
  review?: (obj: T, ctx: ReviewContext) => KubeObject | Promise<KubeObject>;
  /**
   * Read-only kinds whose objects live elsewhere and are fetched per request (metrics.k8s.io
   * from the node agents): never stored, no watch cache, not in the OpenAPI documents (upstream
   * serves them from an aggregated API server, whose schemas kube-apiserver does not carry).
   */
  external?: true;
}

export interface ReviewContext {
  user: UserInfo;
  /** The namespace of the request path (LocalSubjectAccessReview), or "". */
  namespace: string;
  auth: AuthServices;
}

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';
export const ALL_VERBS: Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** The storage key of a definition: one Redis keyspace and one watch cache each. */
export function storageKeyOf(def: ResourceDefinition): string {
  return def.conversion?.storageKey ?? `${def.group || 'core'}/${def.plural}`;
}

export function apiVersionOf(def: ResourceDefinition): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}

/**
 * A kind as the server handles it: kubernetes-types declares kinds as readonly interfaces without
 * an index signature, so intersecting with KubeObject lets a Pod be a KubeObject without a cast.
 */
export type Stored<T> = { -readonly [K in keyof T]: T[K] } & KubeObject;

/**
 * Widens a typed definition for the shared table. Sound because the generic store only hands a
 * definition objects of its own kind; needed because fieldSelectors' functions are contravariant.
 */
export function erase<T extends KubeObject>(def: ResourceDefinition<T>): ResourceDefinition {
  return def as unknown as ResourceDefinition;
}
