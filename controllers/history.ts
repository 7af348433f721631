// ControllerRevision bookkeeping shared by the StatefulSet and DaemonSet controllers, after
// upstream's pkg/controller/history: a revision holds a patch that restores the owner's pod
// template; its name is `<owner>-<hash>`, and equal templates reuse (and renumber) the same
// revision instead of piling up duplicates.
import type { ControllerRevision } from 'kubernetes-types/apps/v1.js';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { Mutable } from '../apimachinery/mutable.js';
import { ApiError, isAlreadyExists, isNotFound, type ApiClient } from './framework/client.js';
import { newControllerRef, type Owner } from './controller-utils.js';

export const CONTROLLER_REVISION_HASH = 'controller-revision-hash';
/** Every revision carries its hash here (history.ControllerRevisionHashLabel). */
export const REVISION_HASH_LABEL = 'controller.kubernetes.io/hash';

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** FNV-1a, 32 bits: the hash upstream's ComputeHash feeds with the object and collision count. */
export function fnv32a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (const b of Buffer.from(text, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** rand.SafeEncodeString: maps digits onto consonants so hashes never spell words. */
export function safeEncode(s: string): string {
  let out = '';
  for (const ch of s) out += SAFE_ALPHABET[ch.charCodeAt(0) % SAFE_ALPHABET.length];
  return out;
}

/** A stable JSON rendering: keys sorted, so equal objects hash equally whatever their key order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

export function computeHash(obj: unknown, collisionCount?: number): string {
  let text = canonicalJson(obj);
  if (collisionCount !== undefined && collisionCount !== null) text += `#${collisionCount}`;
  return safeEncode(String(fnv32a(text)));
}

/** The revision's data: a strategic merge patch that puts the template back whole. */
export function templatePatch(template: PodTemplateSpec | undefined): Record<string, unknown> {
  return { spec: { template: { ...structuredClone(template ?? {}), $patch: 'replace' } } };
}

/** The pod template a revision restores. */
export function templateOf(rev: ControllerRevision | undefined): PodTemplateSpec | undefined {
  const t = (rev?.data as { spec?: { template?: Record<string, unknown> } } | undefined)?.spec?.template;
  if (!t) return undefined;
  const { $patch: _drop, ...rest } = t;
  void _drop;
  return rest as PodTemplateSpec;
}

/** `podHashLabel`: DaemonSet revisions also carry the hash under the label their pods use. */
export function newRevision(
  owner: Owner, template: PodTemplateSpec | undefined, revision: number, collisionCount: number | undefined, labels: Record<string, string> = {}, podHashLabel = false,
): Mutable<ControllerRevision> {
  const data = templatePatch(template);
  const hash = computeHash(data, collisionCount);
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: `${owner.metadata?.name}-${hash}`,
      namespace: owner.metadata?.namespace,
      labels: { ...labels, [REVISION_HASH_LABEL]: hash, ...(podHashLabel ? { [CONTROLLER_REVISION_HASH]: hash } : {}) },
      ownerReferences: [newControllerRef(owner)],
    },
    data,
    revision,
  };
}

export const sameData = (a: ControllerRevision, b: ControllerRevision): boolean => canonicalJson(a.data) === canonicalJson(b.data);

export function sortRevisions(revs: ControllerRevision[]): ControllerRevision[] {
  return [...revs].sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}

export const nextRevisionNumber = (revs: ControllerRevision[]): number => revs.reduce((m, r) => Math.max(m, r.revision ?? 0), 0) + 1;

export interface RevisionResult {
  revision: ControllerRevision;
  collisionCount: number;
  /** Every revision of the owner after the change, oldest first. */
  revisions: ControllerRevision[];
}

/**
 * Finds or creates the revision of `template` among `revisions` (the owner's, from the cache):
 * an equal older one is renumbered to be the newest; a name clash with different data bumps
 * the collision count, as upstream's CreateControllerRevision.
 */
export async function ensureRevision(
  client: ApiClient,
  owner: Owner,
  template: PodTemplateSpec | undefined,
  revisions: ControllerRevision[],
  collisionCount: number,
  labels: Record<string, string> = {},
  podHashLabel = false,
): Promise<RevisionResult> {
  const ns = owner.metadata?.namespace;
  const path = `/apis/apps/v1/namespaces/${ns}/controllerrevisions`;
  const sorted = sortRevisions(revisions);
  const next = nextRevisionNumber(sorted);
  const wanted = newRevision(owner, template, next, collisionCount, labels, podHashLabel);
  const equal = sorted.filter((r) => sameData(r, wanted));
  if (equal.length > 0) {
    const found = equal[equal.length - 1];
    if (found === sorted[sorted.length - 1]) return { revision: found, collisionCount, revisions: sorted };
    // An update, as upstream's UpdateControllerRevision (a merge patch here would have the
    // server read the "$patch" key inside data as a directive).
    const renumbered = await client.update<ControllerRevision>(`${path}/${found.metadata?.name}`, { ...found, apiVersion: 'apps/v1', kind: 'ControllerRevision', revision: next });
    return { revision: renumbered, collisionCount, revisions: sortRevisions(sorted.map((r) => (r === found ? renumbered : r))) };
  }
  for (let count = collisionCount; ; count++) {
    const candidate = newRevision(owner, template, next, count, labels, podHashLabel);
    try {
      const created = await client.create<ControllerRevision>(path, candidate);
      return { revision: created, collisionCount: count, revisions: [...sorted, created] };
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      const existing = await client.get<ControllerRevision>(`${path}/${candidate.metadata?.name}`).catch((err: unknown) => {
        if (isNotFound(err)) return undefined;
        throw err;
      });
      if (existing && sameData(existing, candidate) && existing.metadata?.ownerReferences?.some((r) => r.uid === owner.metadata?.uid)) {
        return { revision: existing, collisionCount: count, revisions: sortRevisions([...sorted.filter((r) => r.metadata?.name !== existing.metadata?.name), existing]) };
      }
      if (count - collisionCount > 10) throw new ApiError(409, { message: `too many hash collisions for ${candidate.metadata?.name}` });
    }
  }
}

/** Revisions beyond `limit` that no live pod or status refers to, oldest first (truncateHistory). */
export function revisionsToPrune(revisions: ControllerRevision[], live: Set<string>, limit: number): ControllerRevision[] {
  const history = sortRevisions(revisions).filter((r) => !live.has(r.metadata?.name ?? ''));
  const excess = history.length - Math.max(0, limit);
  return excess > 0 ? history.slice(0, excess) : [];
}
