// Pod requests and node allocatable as integers (milli-CPU, bytes, counts), the units
// upstream's framework.Resource keeps, so sums over thousands of pods stay exact.
import type { Container, Node, Pod } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../../server/registry/quantity.js';

export interface Resource {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  /** Extended resources (nvidia.com/gpu, hugepages-2Mi, ...) by name, in whole units. */
  scalar: Map<string, number>;
}

// Used only for scoring, so pods without requests still spread (GetNonzeroRequests).
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

export const emptyResource = (): Resource => ({ milliCPU: 0, memory: 0, ephemeralStorage: 0, scalar: new Map() });

type QuantityMap = Readonly<Record<string, string | number>> | undefined;

function milli(q: string | number | undefined): number {
  return Math.ceil((parseQuantity(q) ?? 0) * 1000 - 1e-6);
}

function whole(q: string | number | undefined): number {
  return Math.ceil((parseQuantity(q) ?? 0) - 1e-9);
}

function isScalar(name: string): boolean {
  return name !== 'cpu' && name !== 'memory' && name !== 'ephemeral-storage' && name !== 'pods';
}

export function resourceFromList(list: QuantityMap): Resource {
  const r = emptyResource();
  for (const [name, q] of Object.entries(list ?? {})) {
    if (name === 'cpu') r.milliCPU = milli(q);
    else if (name === 'memory') r.memory = whole(q);
    else if (name === 'ephemeral-storage') r.ephemeralStorage = whole(q);
    else if (isScalar(name)) r.scalar.set(name, whole(q));
  }
  return r;
}

function addInto(into: Resource, r: Resource): void {
  into.milliCPU += r.milliCPU;
  into.memory += r.memory;
  into.ephemeralStorage += r.ephemeralStorage;
  for (const [k, v] of r.scalar) into.scalar.set(k, (into.scalar.get(k) ?? 0) + v);
}

function maxInto(into: Resource, r: Resource): void {
  into.milliCPU = Math.max(into.milliCPU, r.milliCPU);
  into.memory = Math.max(into.memory, r.memory);
  into.ephemeralStorage = Math.max(into.ephemeralStorage, r.ephemeralStorage);
  for (const [k, v] of r.scalar) into.scalar.set(k, Math.max(into.scalar.get(k) ?? 0, v));
}

export function addResources(a: Resource, b: Resource, sign = 1): Resource {
  const out = cloneResource(a);
  if (sign > 0) addInto(out, b);
  else {
    out.milliCPU -= b.milliCPU;
    out.memory -= b.memory;
    out.ephemeralStorage -= b.ephemeralStorage;
    for (const [k, v] of b.scalar) out.scalar.set(k, (out.scalar.get(k) ?? 0) - v);
  }
  return out;
}

export function cloneResource(r: Resource): Resource {
  return { milliCPU: r.milliCPU, memory: r.memory, ephemeralStorage: r.ephemeralStorage, scalar: new Map(r.scalar) };
}

const requestsOf = (c: Container): Resource => resourceFromList(c.resources?.requests);

/**
 * The effective request (resourcehelper.PodRequests): the sum of the app containers and the
 * restartable (sidecar) init containers, or the largest single init container plus the
 * sidecars started before it if that is larger, plus the pod overhead.
 */
export function podRequests(pod: Pod): Resource {
  const sum = emptyResource();
  for (const c of pod.spec?.containers ?? []) addInto(sum, requestsOf(c));
  const initPeak = emptyResource();
  const sidecars = emptyResource();
  for (const c of pod.spec?.initContainers ?? []) {
    const r = requestsOf(c);
    if (c.restartPolicy === 'Always') {
      addInto(sidecars, r);
      addInto(sum, r);
      maxInto(initPeak, sidecars);
    } else {
      const running = cloneResource(sidecars);
      addInto(running, r);
      maxInto(initPeak, running);
    }
  }
  maxInto(sum, initPeak);
  addInto(sum, resourceFromList(pod.spec?.overhead));
  return sum;
}

/** CPU and memory requests with upstream's non-zero defaults for containers that set none. */
export function podNonZeroRequests(pod: Pod): { milliCPU: number; memory: number } {
  let milliCPU = 0;
  let memory = 0;
  for (const c of pod.spec?.containers ?? []) {
    const req = c.resources?.requests ?? {};
    milliCPU += req.cpu === undefined ? DEFAULT_MILLI_CPU_REQUEST : milli(req.cpu);
    memory += req.memory === undefined ? DEFAULT_MEMORY_REQUEST : whole(req.memory);
  }
  const over = resourceFromList(pod.spec?.overhead);
  return { milliCPU: milliCPU + over.milliCPU, memory: memory + over.memory };
}

export interface Allocatable extends Resource {
  allowedPodNumber: number;
}

export function nodeAllocatable(node: Node): Allocatable {
  const list = node.status?.allocatable ?? node.status?.capacity;
  return { ...resourceFromList(list), allowedPodNumber: whole(list?.pods) };
}
